import type {
  AppApi,
  AppEventDto,
  KeyDto,
  PolicyDto,
  SettingsDto,
} from '../../../preload/contract.ts';
import type { ValetKey } from '../keys/key-store.ts';
import { ValetError } from '../util/valet-error.ts';
import { activityOf, activityPage } from './activity.ts';
import { activityChart } from './activity-chart.ts';
import { clientConfigs, type SelfCommand } from './client-configs.ts';
import { SignInAttempts } from './sign-in-attempts.ts';
import { accountDto, StatusModel } from './status-model.ts';
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
   * browser, so `auto` hands the page its URL; on the desktop it means the OS broker or the
   * system browser.
   */
  shell?: 'desktop' | 'browser';
  /**
   * The diagnostics log the shell writes (the desktop app), and how to open it in the OS's
   * viewer. Without one, diagnostics go to the terminal the app runs in.
   */
  diagnostics?: {
    path: string;
    recent(lines?: number): Promise<string[]>;
    open?: () => Promise<void>;
  };
  /** The core's status model, when the shell shares it; otherwise the API makes its own. */
  status?: StatusModel;
}

const key = (k: ValetKey): KeyDto => ({
  ...k,
  tools: [...k.tools],
  account: k.account && { ...k.account },
});

/**
 * The AppApi over the core: what the window does, as calls on the same core the CLI uses.
 * The Electron IPC handlers and the web bridge both serve this one object.
 */
export function createAppApi(core: ValetCore, options: AppApiOptions = {}): AppApi {
  const listeners = new Set<(event: AppEventDto) => void>();
  const emit = (event: AppEventDto) => {
    for (const l of listeners) l(event);
  };

  // Everything the window follows, as events: the status as one snapshot of the core.
  const status = options.status ?? new StatusModel(core, { demo: options.demo ?? false });
  status.on('changed', (snapshot) => emit({ type: 'status-changed', status: snapshot }));
  const signIns = new SignInAttempts(core.auth, (attemptId, step) =>
    emit({ type: 'sign-in-progress', attemptId, step }),
  );
  core.approvals.on('approval-requested', (approval) =>
    emit({ type: 'approval-requested', approval }),
  );
  core.approvals.on('approval-decided', (d) =>
    emit({ type: 'approval-decided', id: d.id, outcome: d.outcome }),
  );
  // A call's line, made from its own record once the audit log has numbered it.
  core.on('tool-call', (call, written) => {
    if (written) emit({ type: 'activity', item: activityOf(call, written) });
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
    getStatus: () => status.current(),
    async signIn({ method: asked, scopes }) {
      const method = asked === 'auto' && options.shell === 'browser' ? 'browser' : asked;
      // Adding consent for the signed-in user should not ask which account.
      const active = scopes?.length ? (await status.current()).account : null;
      const handle = options.windowHandle?.();
      const attemptId = signIns.start({
        method,
        ...(scopes?.length ? { scopes } : {}),
        ...(active ? { loginHint: active.username } : {}),
        ...(handle ? { windowHandle: handle } : {}),
        openBrowser: method === 'auto',
      });
      return { attemptId };
    },
    async cancelSignIn({ attemptId }) {
      signIns.cancel(attemptId);
    },
    async signOut({ account: ref }) {
      await core.auth.signOut(ref ? { account: ref } : {});
    },
    listAccounts: async () => (await core.auth.listAccounts()).map(accountDto),
    useAccount: async ({ account: ref }) => accountDto(await core.auth.useAccount(ref)),
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
    listActivity: (query) => activityPage(core.audit.dir, query),
    getActivityChart: (query) => activityChart(core.audit.dir, query),
    async getDiagnostics({ lines = 20 }) {
      const log = options.diagnostics;
      if (!log) return { path: null, recent: [], canOpen: false };
      return { path: log.path, recent: await log.recent(lines), canOpen: log.open !== undefined };
    },
    async openDiagnostics() {
      const open = options.diagnostics?.open;
      if (!open)
        throw new ValetError(
          'not_available',
          'Only the desktop app keeps a diagnostics log to open: serve and demo write theirs to the terminal they run in',
        );
      await open();
    },
    getPolicy: policy,
    async setToolEnabled({ tool, enabled }) {
      await core.setToolEnabled(tool, enabled);
      return policy();
    },
    getSettings: async () => settings(),
    async saveSettings({ clientId, tenantId }) {
      await core.saveSettings({ clientId, tenantId });
      status.invalidate();
      return settings();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
