// An AppApi that keeps its state in memory: a real implementation of the contract for the
// renderer's component tests. Requests are validated with the core's own schemas, events
// go to subscribers, and helpers push what the core would push (activity, approvals, sign-ins).
import { chartFrame, chartOf, DEFAULT_CHART } from '../../main/core/app/activity-chart.ts';
import { parseCall } from '../../main/core/app/call-schemas.ts';
import {
  TOOL_NAMES,
  type AccountDto,
  type ActivityDto,
  type ActivityPageDto,
  type AppApi,
  type AppEventDto,
  type ApprovalDto,
  type CallName,
  type CallRequest,
  type CallResponse,
  type DiagnosticsDto,
  type KeyDto,
  type NewKeyDto,
  type PolicyDto,
  type SettingsDto,
  type SignInStepDto,
  type StatusDto,
  type TokenFreshnessDto,
  type ToolNameDto,
} from '../../preload/contract.ts';
import { AppApiError } from '../../renderer/src/api/app-api-error.ts';
import { toolPolicies } from './fixtures.ts';

/** Adele, the default signed-in account. */
export const ADELE: AccountDto = {
  homeAccountId: 'adele-oid.tenant-id',
  username: 'adele@contoso.com',
  name: 'Adele Vance',
  tenantId: 'b5f1a6c2-1111-4222-8333-944445555666',
  roles: [],
  active: true,
  viaBroker: false,
};

/** Megan, a second cached account. */
export const MEGAN: AccountDto = {
  homeAccountId: 'megan-oid.tenant-id',
  username: 'megan@contoso.com',
  name: 'Megan Bowen',
  tenantId: ADELE.tenantId,
  roles: [],
  active: false,
  viaBroker: true,
};

/** How the in-memory core starts. */
export interface InMemoryOptions {
  configured?: boolean;
  accounts?: AccountDto[];
  missingScopes?: string[];
  lockedByEnvironment?: SettingsDto['lockedByEnvironment'];
}

/** A recorded call, as the core received it (after validation: trimmed, defaults dropped). */
export interface RecordedCall {
  name: CallName;
  request: unknown;
}

/** The in-memory AppApi. Public fields are the state; tests read and set them. */
export class InMemoryApi implements AppApi {
  readonly calls: RecordedCall[] = [];
  settings: SettingsDto;
  accounts: AccountDto[];
  missingScopes: string[];
  tokens: TokenFreshnessDto[] = [
    {
      scopes: ['User.Read'],
      expiresOn: new Date(Date.now() + 50 * 60_000).toISOString(),
      expired: false,
    },
  ];
  endpoint = { url: 'http://127.0.0.1:47652/mcp' as string | null, running: true };
  keys: KeyDto[] = [];
  approvals: ApprovalDto[] = [];
  /** Oldest first; listActivity pages it newest first. */
  activity: ActivityDto[] = [];
  /** The clock the activity chart ends at. */
  now: () => number = () => Date.now();
  policy: PolicyDto = {
    tools: toolPolicies(),
    approvalTimeoutSeconds: 120,
    rateLimits: { requestsPerMinute: 300, burst: 60, concurrentPerKey: 8, concurrentTotal: 64 },
  };
  /** The diagnostics log, as the desktop app has one (web: path null, nothing to open). */
  diagnostics: DiagnosticsDto = { path: null, recent: [], canOpen: false };
  /** The steps each sign-in reports after it started, in order (the broker's prompt by default). */
  signInSteps: SignInStepDto[] = [{ kind: 'broker' }];
  /** The attempt the latest signIn started. */
  attemptId: string | null = null;
  #attempts = 0;
  readonly #listeners = new Set<(event: AppEventDto) => void>();
  readonly #failures = new Map<CallName, AppApiError>();
  #seq = 0;

  constructor(options: InMemoryOptions = {}) {
    const configured = options.configured ?? true;
    this.settings = {
      clientId: configured ? '11111111-2222-3333-4444-555555555555' : null,
      tenantId: configured ? ADELE.tenantId : 'organizations',
      configured,
      lockedByEnvironment: options.lockedByEnvironment ?? [],
    };
    this.accounts = (options.accounts ?? [ADELE, MEGAN]).map((a) => ({ ...a }));
    this.missingScopes = options.missingScopes ?? [];
  }

  /** Makes the next call to `name` fail with `message`, as the core would. */
  failNext(name: CallName, message: string, code = 'test_failure'): void {
    this.#failures.set(name, new AppApiError({ code, message }));
  }

  /** Calls made to `name`, in order. */
  callsTo<N extends CallName>(name: N): Array<CallRequest<N>> {
    return this.calls.filter((c) => c.name === name).map((c) => c.request as CallRequest<N>);
  }

  /** Pushes an event to every subscriber. */
  emit(event: AppEventDto): void {
    for (const listener of [...this.#listeners]) listener(event);
  }

  /** Adds an activity entry (newest) and pushes it. */
  pushActivity(item: Partial<ActivityDto> = {}): ActivityDto {
    const entry: ActivityDto = {
      seq: ++this.#seq,
      time: new Date().toISOString(),
      type: 'tool-call',
      outcome: 'allowed',
      tool: 'list_messages',
      keyName: 'vscode',
      client: 'Visual Studio Code 1.101.0',
      account: ADELE.username,
      durationMs: 120,
      graphRequestIds: [`req-${this.#seq}`],
      reason: null,
      ...item,
    };
    if (item.seq !== undefined) this.#seq = Math.max(this.#seq, item.seq);
    this.activity.push(entry);
    this.emit({ type: 'activity', item: entry });
    return entry;
  }

  /** Adds entries without pushing events (history from before the window opened). */
  seedActivity(count: number, item: Partial<ActivityDto> = {}): void {
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (let i = 0; i < count; i++) this.pushActivity(item);
    for (const l of listeners) this.#listeners.add(l);
  }

  /** A client asks for approval: added and pushed as `approval-requested`. */
  requestApproval(approval: Partial<ApprovalDto> = {}): ApprovalDto {
    const id = approval.id ?? `appr-${this.approvals.length + 1}`;
    const full: ApprovalDto = {
      id,
      tool: 'send_mail',
      action: 'Send an email',
      key: { id: 'key-claude', name: 'claude' },
      client: { name: 'Claude Desktop', version: '0.12.0' },
      account: ADELE.username,
      summary: [
        { label: 'To', value: 'megan@contoso.com' },
        { label: 'Subject', value: 'Quarterly numbers' },
        { label: 'Body', value: 'Hi Megan,\nthe numbers are attached.\nAdele' },
      ],
      requestedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 120_000).toISOString(),
      ...approval,
    };
    this.approvals.push(full);
    this.emit({ type: 'approval-requested', approval: full });
    return full;
  }

  /** Reports a step of the latest sign-in attempt, as the core would. */
  reportSignIn(step: SignInStepDto, attemptId = this.attemptId): void {
    if (attemptId) this.emit({ type: 'sign-in-progress', attemptId, step });
  }

  /** An interactive sign-in finished: the account is cached and active. */
  completeSignIn(account: AccountDto): void {
    this.accounts = [
      ...this.accounts.filter((a) => a.homeAccountId !== account.homeAccountId),
      account,
    ];
    this.#activate(account.homeAccountId);
    this.reportSignIn({ kind: 'finished', username: account.username });
  }

  /** The status the core would report now. */
  status(): StatusDto {
    const account = this.accounts.find((a) => a.active) ?? null;
    return {
      configured: this.settings.configured,
      demo: false,
      clientId: this.settings.clientId,
      tenantId: this.settings.tenantId,
      authority: `https://login.microsoftonline.com/${this.settings.tenantId}`,
      account,
      accounts: this.accounts.map((a) => ({ ...a })),
      tokens: account ? this.tokens : [],
      broker: { mode: 'auto', available: false, reason: 'No broker on Linux' },
      cache: {
        kind: 'libsecret',
        persisted: true,
        protected: true,
        reason: 'Secret Service (gnome-keyring) is unlocked',
      },
      endpoint: this.endpoint,
      missingScopes: account ? this.missingScopes : [],
      pendingApprovals: this.approvals.length,
    };
  }

  subscribe(listener: (event: AppEventDto) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** How many subscribers there are (a view that leaks its subscription shows here). */
  get subscriberCount(): number {
    return this.#listeners.size;
  }

  getStatus = this.#handler('getStatus', () => this.status());
  signIn = this.#handler('signIn', () => {
    const attemptId = `attempt-${++this.#attempts}`;
    this.attemptId = attemptId;
    // The steps come as events once the call has answered, as the core sends them.
    const steps = [...this.signInSteps];
    setTimeout(() => {
      for (const step of steps) this.reportSignIn(step, attemptId);
    }, 0);
    return { attemptId };
  });
  cancelSignIn = this.#handler('cancelSignIn', (req) => {
    if (req.attemptId === this.attemptId) this.reportSignIn({ kind: 'cancelled' });
  });
  signOut = this.#handler('signOut', (req) => {
    const target = req.account ?? this.accounts.find((a) => a.active)?.homeAccountId;
    const found = this.accounts.find((a) => a.homeAccountId === target || a.username === target);
    if (!found) throw new AppApiError({ code: 'no_account', message: 'Nobody is signed in' });
    this.accounts = this.accounts.filter((a) => a !== found);
    if (found.active && this.accounts[0]) this.accounts[0].active = true;
    this.emit({ type: 'status-changed', status: this.status() });
  });
  listAccounts = this.#handler('listAccounts', () => this.accounts.map((a) => ({ ...a })));
  useAccount = this.#handler('useAccount', (req) => {
    const found = this.accounts.find(
      (a) => a.homeAccountId === req.account || a.username === req.account,
    );
    if (!found)
      throw new AppApiError({
        code: 'no_account',
        message: `No cached account matches ${req.account}`,
      });
    this.#activate(found.homeAccountId);
    return { ...found };
  });
  listKeys = this.#handler('listKeys', () => this.keys.map((k) => ({ ...k })));
  createKey = this.#handler('createKey', (req): NewKeyDto => {
    const name = req.name.trim();
    if (this.keys.some((k) => k.name === name && !k.revokedAt))
      throw new AppApiError({ code: 'key_exists', message: `A key named ${name} already exists` });
    const account = this.accounts.find((a) => a.homeAccountId === (req.account ?? '')) ?? null;
    const key: KeyDto = {
      id: `key-${this.keys.length + 1}`,
      name,
      tools: req.tools as ToolNameDto[],
      readOnly: req.readOnly,
      account: account && { homeAccountId: account.homeAccountId, username: account.username },
      createdAt: new Date().toISOString(),
    };
    this.keys.push(key);
    const secret = `mvk_secret_${key.id}_0123456789`;
    return {
      key,
      secret,
      configs: {
        vscode: `{"servers":{"mcp-valet":{"url":"${this.endpoint.url}"}}}`,
        cursor: `{"mcpServers":{"mcp-valet":{"headers":{"Authorization":"Bearer ${secret}"}}}}`,
        claudeDesktop: `{"mcpServers":{"mcp-valet":{"env":{"VALET_KEY":"${secret}"}}}}`,
      },
    };
  });
  revokeKey = this.#handler('revokeKey', (req) => {
    const key = this.keys.find((k) => k.id === req.id);
    if (!key) throw new AppApiError({ code: 'no_key', message: `No key ${req.id}` });
    key.revokedAt = new Date().toISOString();
    return { ...key };
  });
  listApprovals = this.#handler('listApprovals', () => [...this.approvals]);
  decideApproval = this.#handler('decideApproval', (req) => {
    if (!this.approvals.some((a) => a.id === req.id))
      throw new AppApiError({
        code: 'no_approval',
        message: `Approval ${req.id} is no longer pending`,
      });
    this.approvals = this.approvals.filter((a) => a.id !== req.id);
    this.emit({
      type: 'approval-decided',
      id: req.id,
      outcome: req.decision.kind === 'deny' ? 'denied' : 'approved',
    });
  });
  listActivity = this.#handler('listActivity', (req): ActivityPageDto => {
    const limit = req.limit ?? 50;
    const matching = this.activity
      .filter((i) => req.before === undefined || i.seq < req.before)
      .filter((i) => !req.keyName || i.keyName === req.keyName)
      .filter((i) => !req.tool || i.tool === req.tool)
      .filter((i) => !req.outcome || i.outcome === req.outcome)
      .reverse();
    const items = matching.slice(0, limit);
    return { items, nextBefore: matching.length > limit ? (items.at(-1)?.seq ?? null) : null };
  });
  /** The core's own chart of the calls in `activity`. */
  getActivityChart = this.#handler('getActivityChart', (req) =>
    chartOf(
      chartFrame(
        this.now(),
        req.minutes ?? DEFAULT_CHART.minutes,
        req.buckets ?? DEFAULT_CHART.buckets,
      ),
      this.activity.map((i) => ({
        at: Date.parse(i.time),
        outcome: i.outcome,
        durationMs: i.durationMs,
      })),
    ),
  );
  getDiagnostics = this.#handler('getDiagnostics', (req) => ({
    ...this.diagnostics,
    recent: this.diagnostics.recent.slice(-(req.lines ?? 20)),
  }));
  openDiagnostics = this.#handler('openDiagnostics', () => {
    if (!this.diagnostics.canOpen)
      throw new AppApiError({ code: 'not_available', message: 'no log' });
  });
  getPolicy = this.#handler('getPolicy', () => structuredClone(this.policy));
  setToolEnabled = this.#handler('setToolEnabled', (req) => {
    const tool = this.policy.tools.find((t) => t.tool === req.tool);
    if (tool) tool.enabled = req.enabled;
    return structuredClone(this.policy);
  });
  getSettings = this.#handler('getSettings', () => ({ ...this.settings }));
  saveSettings = this.#handler('saveSettings', (req) => {
    this.settings = {
      ...this.settings,
      clientId: req.clientId.trim(),
      tenantId: req.tenantId.trim(),
      configured: true,
    };
    return { ...this.settings };
  });

  #activate(homeAccountId: string): void {
    for (const a of this.accounts) a.active = a.homeAccountId === homeAccountId;
    this.emit({ type: 'status-changed', status: this.status() });
  }

  /** A call: validated like the core validates it, recorded, failed on request, then run. */
  #handler<N extends CallName>(
    name: N,
    run: (request: CallRequest<N>) => CallResponse<N>,
  ): (request: CallRequest<N>) => Promise<CallResponse<N>> {
    return async (raw) => {
      const parsed = parseCall(name, raw);
      if (!parsed.ok) throw new AppApiError(parsed.error);
      const request = parsed.request;
      this.calls.push({ name, request });
      await Promise.resolve();
      const failure = this.#failures.get(name);
      if (failure) {
        this.#failures.delete(name);
        throw failure;
      }
      return run(request);
    };
  }
}

/** Every tool name, for tests that need them. */
export const ALL_TOOLS: readonly ToolNameDto[] = TOOL_NAMES;
