import type {
  AccountDto,
  ActivityDto,
  AppApi,
  AppEventDto,
  KeyDto,
  PolicyDto,
  SettingsDto,
  SignInStartDto,
  StatusDto,
} from '../../../preload/contract.ts';
import { readAudit } from '../audit/audit-reader.ts';
import type { AuditRecord } from '../audit/audit-types.ts';
import type { AccountSummary } from '../auth/auth-types.ts';
import type { ValetKey } from '../keys/key-store.ts';
import { ValetError } from '../util/valet-error.ts';
import { clientConfigs, type SelfCommand } from './client-configs.ts';
import type { ValetCore } from './valet-core.ts';

/** What the window's API needs beyond the core. */
export interface AppApiOptions {
  /** The demo tenant is running (the first-run screen is already filled in). */
  demo?: boolean;
  /** How clients start `mcp-valet stdio` (Claude Desktop's configuration). */
  selfCommand?: SelfCommand;
  /** The native window handle for the broker's prompt (Electron). */
  windowHandle?: () => Buffer | undefined;
  /**
   * Where the window runs. In a browser (the web bridge) "sign in" means a page in that same
   * browser, so `auto` returns the URL; on the desktop it means the OS broker or system browser.
   */
  shell?: 'desktop' | 'browser';
}

const account = (a: AccountSummary): AccountDto => ({
  homeAccountId: a.homeAccountId,
  username: a.username,
  name: a.name ?? null,
  tenantId: a.tenantId,
  roles: a.roles,
  active: a.active,
  viaBroker: a.viaBroker,
});
const key = (k: ValetKey): KeyDto => ({
  ...k,
  tools: [...k.tools],
  account: k.account && { ...k.account },
});

/** A tool_call audit record as a line of the activity view. */
export function activityItem(r: AuditRecord): ActivityDto {
  const d = r.details ?? {};
  return {
    seq: r.seq,
    time: r.time,
    type: r.type,
    outcome: r.outcome,
    tool: typeof d.tool === 'string' ? d.tool : null,
    keyName: r.actor?.keyName ?? null,
    client: r.actor?.client ?? null,
    account: r.actor?.account ?? null,
    durationMs: typeof d.durationMs === 'number' ? d.durationMs : null,
    graphRequestIds: Array.isArray(d.graphRequestIds)
      ? d.graphRequestIds.filter((x): x is string => typeof x === 'string')
      : [],
    reason: typeof d.rule === 'string' ? d.rule : typeof d.error === 'string' ? d.error : null,
  };
}

/**
 * The AppApi over the core: what the window does, as calls on the same core the CLI uses.
 * The Electron IPC handlers and the web bridge both serve this one object.
 */
export function createAppApi(core: ValetCore, options: AppApiOptions = {}): AppApi {
  let signIn: AbortController | undefined;
  const listeners = new Set<(event: AppEventDto) => void>();
  const emit = (event: AppEventDto) => {
    for (const l of listeners) l(event);
  };

  const getStatus = async (): Promise<StatusDto> => {
    const { config, auth } = core;
    const configured = config.clientId !== undefined;
    const active = configured ? await auth.activeAccount().catch(() => undefined) : undefined;
    const tokens = active ? await auth.tokenFreshness(active.homeAccountId) : [];
    const granted = new Set(tokens.flatMap((t) => t.scopes.map((s) => s.toLowerCase())));
    const needed = [...new Set(core.tools.flatMap((t) => t.scopes))];
    const endpoint = core.endpoint;
    return {
      configured,
      demo: options.demo ?? false,
      clientId: config.clientId ?? null,
      tenantId: config.tenantId,
      authority: config.authority.url,
      account: active ? account(active) : null,
      tokens,
      broker: await auth.brokerState(),
      cache: {
        kind: auth.cache.state.kind,
        persisted: auth.cache.state.persisted,
        reason: auth.cache.state.reason,
      },
      endpoint: { url: endpoint?.url ?? null, running: endpoint !== undefined },
      missingScopes:
        active && !active.viaBroker ? needed.filter((s) => !granted.has(s.toLowerCase())) : [],
    };
  };

  // Everything the window follows, as events.
  let statusTimer: NodeJS.Timeout | undefined;
  const statusChanged = () => {
    // Sign-in emits several events at once; one fresh status is enough.
    clearTimeout(statusTimer);
    statusTimer = setTimeout(
      () =>
        void getStatus().then(
          (status) => emit({ type: 'auth-changed', status }),
          () => undefined,
        ),
      50,
    );
  };
  for (const name of [
    'signed-in',
    'signed-out',
    'active-changed',
    'token-refreshed',
    'interaction-required',
  ] as const)
    core.auth.on(name, statusChanged);
  core.approvals.on('approval-requested', (approval) =>
    emit({ type: 'approval-requested', approval }),
  );
  core.approvals.on('approval-decided', (d) =>
    emit({ type: 'approval-decided', id: d.id, outcome: d.outcome }),
  );
  core.audit.on('written', (record) => {
    if (record.type === 'tool_call') emit({ type: 'activity', item: activityItem(record) });
  });

  const policy = async (): Promise<PolicyDto> => {
    const { tools, policy: p } = await core.effectivePolicy();
    return {
      tools: tools.map((t) => {
        const def = core.tools.find((d) => d.name === t.tool)!;
        return { ...t, title: def.title, scopes: [...def.scopes] };
      }),
      approvalTimeoutSeconds: p.approvalTimeoutSeconds,
      rateLimits: { ...p.rateLimits },
    };
  };

  const settings = (): SettingsDto => ({
    clientId: core.config.clientId ?? null,
    tenantId: core.config.tenantId,
    configured: core.config.clientId !== undefined,
    lockedByEnvironment: (['clientId', 'tenantId'] as const).filter(
      (s) => core.config.sources[s] === 'env',
    ),
  });

  return {
    getStatus,
    async signIn({ method: asked, scopes }) {
      const method = asked === 'auto' && options.shell === 'browser' ? 'browser' : asked;
      signIn?.abort();
      const controller = new AbortController();
      signIn = controller;
      const active = await core.auth.activeAccount().catch(() => undefined);
      return new Promise<SignInStartDto>((resolve, reject) => {
        const running = core.auth.signIn({
          method,
          ...(scopes?.length ? { scopes } : {}),
          // Adding consent for the signed-in user should not ask which account.
          ...(scopes?.length && active ? { loginHint: active.username } : {}),
          openBrowser: method === 'auto',
          signal: controller.signal,
          ...(options.windowHandle?.() ? { windowHandle: options.windowHandle()! } : {}),
          onBrowserUrl: (url) => resolve({ kind: 'browser', url }),
          onDeviceCode: (p) => resolve({ kind: 'device-code', ...p }),
        });
        if (method === 'auto') resolve({ kind: 'system' });
        running.then(
          () => {
            resolve({ kind: 'system' });
            statusChanged();
          },
          (err: unknown) => {
            const message = err instanceof ValetError ? err.message : 'Sign-in failed: try again';
            reject(err instanceof ValetError ? err : new ValetError('sign_in_failed', message));
            if (!controller.signal.aborted) emit({ type: 'sign-in-failed', message });
          },
        );
      });
    },
    async cancelSignIn() {
      signIn?.abort();
      signIn = undefined;
    },
    async signOut({ account: ref }) {
      await core.auth.signOut(ref ? { account: ref } : {});
    },
    listAccounts: async () => (await core.auth.listAccounts()).map(account),
    useAccount: async ({ account: ref }) => account(await core.auth.useAccount(ref)),
    listKeys: async () => (await core.keys.list()).map(key),
    async createKey({ name, tools, readOnly, account: ref }) {
      const owner = await core.auth.resolveAccount(ref);
      if (ref && !owner)
        throw new ValetError(
          'no_account',
          `No cached account matches ${ref}: add it under Accounts first`,
        );
      const created = await core.createKey({
        name,
        tools,
        readOnly,
        account: owner ? { homeAccountId: owner.homeAccountId, username: owner.username } : null,
      });
      const url = core.endpoint?.url ?? `http://127.0.0.1:${core.config.port}/mcp`;
      const configs = clientConfigs(url, created.secret, core.config.dataDir, options.selfCommand);
      const text = (v: unknown) => JSON.stringify(v, null, 2);
      return {
        key: key(created.key),
        secret: created.secret,
        configs: {
          vscode: text(configs.vscode),
          cursor: text(configs.cursor),
          claudeDesktop: text(configs.claudeDesktop),
        },
      };
    },
    revokeKey: async ({ id }) => key(await core.revokeKey(id)),
    listApprovals: async () => core.approvals.list(),
    async decideApproval({ id, decision }) {
      core.approvals.decide(id, decision);
    },
    async listActivity({ before, limit = 50, keyName, tool, outcome }) {
      const matching: ActivityDto[] = [];
      for await (const record of readAudit(core.audit.dir)) {
        if (record.type !== 'tool_call' || (before !== undefined && record.seq >= before)) continue;
        const item = activityItem(record);
        if (
          (keyName && item.keyName !== keyName) ||
          (tool && item.tool !== tool) ||
          (outcome && item.outcome !== outcome)
        )
          continue;
        matching.push(item);
      }
      const items = matching.reverse().slice(0, limit);
      return { items, nextBefore: matching.length > limit ? items[items.length - 1]!.seq : null };
    },
    getPolicy: policy,
    async setToolEnabled({ tool, enabled }) {
      await core.setToolEnabled(tool, enabled);
      return policy();
    },
    getSettings: async () => settings(),
    async saveSettings({ clientId, tenantId }) {
      await core.saveSettings({ clientId, tenantId });
      statusChanged();
      return settings();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
