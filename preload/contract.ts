// The AppApi contract: every call and event the window needs, with the DTOs they carry.
// One definition for all sides: the Electron preload derives its verbs and the main process
// its IPC handlers from CALL_NAMES; the web bridge serves the same calls over HTTP. DTOs carry
// no tokens, no valet key hashes and no raw MSAL objects.
//
// Types and names only: nothing here needs a library at run time, so the preload and the
// window stay small. The main process validates every request with its schemas
// (main/core/app/call-schemas.ts), which are checked against these types.

/** Tool names, as in DESIGN.md §3: the one list, for the window and the core alike. */
export const TOOL_NAMES = [
  'get_user_details',
  'list_messages',
  'get_message',
  'list_events',
  'search_files',
  'search_people',
  'send_mail',
  'create_event',
  'auth_status',
] as const;
/** One of TOOL_NAMES. */
export type ToolNameDto = (typeof TOOL_NAMES)[number];

/** A cached account. */
export interface AccountDto {
  homeAccountId: string;
  username: string;
  name: string | null;
  tenantId: string;
  roles: string[];
  active: boolean;
  viaBroker: boolean;
}

/** How fresh a cached access token is (never the token). */
export interface TokenFreshnessDto {
  scopes: string[];
  expiresOn: string;
  expired: boolean;
}

/**
 * The app's status: one snapshot, computed by the core's status model, that the status view,
 * the web bridge and the desktop tray all read.
 */
export interface StatusDto {
  /** false until a client ID is set (first run). */
  configured: boolean;
  demo: boolean;
  clientId: string | null;
  tenantId: string;
  authority: string;
  /** The active account. */
  account: AccountDto | null;
  /** Every cached account, the active one marked. */
  accounts: AccountDto[];
  /** The active account's cached access tokens. */
  tokens: TokenFreshnessDto[];
  broker: {
    mode: string;
    available: boolean;
    reason: string;
    lastFallback?: { at: string; reason: string };
  };
  cache: {
    kind: string;
    persisted: boolean;
    /** Kept by the OS's keyring (DPAPI, Keychain, libsecret): not a file anyone can read. */
    protected: boolean;
    reason: string;
  };
  endpoint: { url: string | null; running: boolean };
  /** Graph permissions some tool needs that the active account has not consented to. */
  missingScopes: string[];
  /** How many calls wait for the user's decision. */
  pendingApprovals: number;
}

/** A valet key as the window sees it: never the secret or its hash. */
export interface KeyDto {
  id: string;
  name: string;
  tools: ToolNameDto[];
  readOnly: boolean;
  account: { homeAccountId: string; username: string } | null;
  /** A team server's key: its MCP client's OAuth client ID (a CIMD URL, or one it registered). */
  clientId?: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** What a team server tells its page about the signed-in user (`GET <base>/api/session`). */
export interface TeamSessionDto {
  /** Sent back in the X-CSRF-Token header of every call, and in the sign-out form. */
  csrf: string;
  user: { name: string; username: string };
  /** An admin sees every user's clients and activity. */
  admin: boolean;
  /** Where the page posts its sign-out, with the CSRF token. */
  signOutPath: string;
  /** The page itself, where the browser goes once signed out. */
  home: string;
  /** The server's public path ('' at a host's root): approval pages are `<base>/approvals/<id>`. */
  basePath: string;
  /**
   * Where clients connect: in valet mode a client gets a key on this server's consent page and
   * is listed; in entra mode it brings the user's Entra token and has no key.
   */
  mcp: Array<{ url: string; auth: 'valet' | 'entra' }>;
}

/** A new key: its secret is shown once, with configurations ready to paste. */
export interface NewKeyDto {
  key: KeyDto;
  secret: string;
  configs: { vscode: string; cursor: string; claudeDesktop: string };
}

/** A line of the summary the user reads before deciding: what will happen, faithfully. */
export interface SummaryLineDto {
  label: string;
  value: string;
}

/**
 * A call waiting for the user's decision, with the faithful summary of what it will do. The
 * core holds its pending calls as this very type. The summary is for the user's eyes: never
 * logged or audited.
 */
export interface ApprovalDto {
  id: string;
  tool: string;
  /** What the tool will do, e.g. "Send an email". */
  action: string;
  key: { id: string; name: string };
  client: { name: string; version: string } | null;
  account: string;
  summary: SummaryLineDto[];
  requestedAt: string;
  expiresAt: string;
}

/** The user's answer to an approval. `window` approves this tool for this key for some minutes. */
export type ApprovalDecisionDto =
  { kind: 'once' } | { kind: 'window'; minutes: number } | { kind: 'deny' };

/** One line of the activity log (from the audit log): tool calls and the events around them. */
export interface ActivityDto {
  seq: number;
  time: string;
  type: string;
  outcome: string;
  tool: string | null;
  keyName: string | null;
  client: string | null;
  account: string | null;
  durationMs: number | null;
  graphRequestIds: string[];
  /** The policy rule or error code, when a call was refused or failed. */
  reason: string | null;
}

/** A page of activity, newest first; pass `nextBefore` back as `before` for older entries. */
export interface ActivityPageDto {
  items: ActivityDto[];
  nextBefore: number | null;
}

/** Tool calls by outcome. */
export interface OutcomeCountsDto {
  allowed: number;
  denied: number;
  failed: number;
}

/** One time slice of the activity chart: its calls by outcome and how long they took. */
export interface ActivityBucketDto {
  /** Where the slice starts; it lasts the chart's `bucketMs`. */
  start: string;
  calls: OutcomeCountsDto;
  /** Median duration of the slice's calls (nearest rank), null when it has none. */
  p50Ms: number | null;
  /** 95th percentile duration of the slice's calls (nearest rank), null when it has none. */
  p95Ms: number | null;
}

/** Tool calls over a recent window of time, oldest slice first, with the window's totals. */
export interface ActivityChartDto {
  /** The start of the first slice. */
  from: string;
  /** The end of the last slice (a little after now: slices start on whole multiples of their length). */
  to: string;
  bucketMs: number;
  buckets: ActivityBucketDto[];
  totals: OutcomeCountsDto;
  /** Over every call in the window. */
  p50Ms: number | null;
  p95Ms: number | null;
}

/** One tool's place in the policy. */
export interface ToolPolicyDto {
  tool: ToolNameDto;
  title: string;
  kind: 'read' | 'write';
  enabled: boolean;
  approval: boolean;
  requireRole: string | null;
  scopes: string[];
}

/** The effective policy. */
export interface PolicyDto {
  tools: ToolPolicyDto[];
  approvalTimeoutSeconds: number;
  rateLimits: {
    requestsPerMinute: number;
    burst: number;
    concurrentPerKey: number;
    concurrentTotal: number;
  };
}

/** The app registration settings of the first-run screen. */
export interface SettingsDto {
  clientId: string | null;
  tenantId: string;
  configured: boolean;
  /** Settings fixed by the environment (VALET_*), which the window cannot change. */
  lockedByEnvironment: Array<'clientId' | 'tenantId'>;
}

/** An interactive sign-in in progress: the attempt `signIn` started, named in its events. */
export interface SignInAttemptDto {
  attemptId: string;
}

/**
 * A step of an interactive sign-in, in the order they can come: the OS broker's prompt, the
 * sign-in page in a browser, a device code to enter; then how it ended. When the broker or
 * the browser fails, the next step follows in the same attempt.
 */
export type SignInStepDto =
  | { kind: 'broker' }
  | {
      kind: 'browser';
      url: string;
      /** MCP Valet asked the system browser to open it; otherwise the window opens it. */
      opened: boolean;
    }
  | {
      kind: 'device-code';
      verificationUri: string;
      userCode: string;
      message: string;
      expiresAt: string;
    }
  | { kind: 'finished'; username: string }
  | { kind: 'failed'; message: string }
  | { kind: 'cancelled' };

/** Events pushed to the window. */
export type AppEventDto =
  /** The status changed (sign-in, accounts, approvals waiting, the endpoint): the new snapshot. */
  | { type: 'status-changed'; status: StatusDto }
  /** The latest step of a sign-in attempt (whoever started it: the window or the tray). */
  | { type: 'sign-in-progress'; attemptId: string; step: SignInStepDto }
  | { type: 'activity'; item: ActivityDto }
  | { type: 'approval-requested'; approval: ApprovalDto }
  | { type: 'approval-decided'; id: string; outcome: string }
  /** The desktop shell asks the window to show a view (the tray's "approvals waiting"). */
  | { type: 'show-view'; view: 'approvals' | 'status' };

/**
 * A failed call: a stable code and a message a person can act on. A request refused by
 * validation (`invalid_request`) names the fields at fault, so a form can point at them.
 */
export interface AppErrorDto {
  code: string;
  message: string;
  fields?: string[];
}

/** The diagnostics log: where it is and how it ends. */
export interface DiagnosticsDto {
  /** The file; null where diagnostics go to the terminal the app runs in (serve, demo). */
  path: string | null;
  /** Its last lines, oldest first (never a token, key or message body). */
  recent: string[];
  /** Whether openDiagnostics opens it in the OS's viewer (the desktop app). */
  canOpen: boolean;
}

/** A request that takes nothing. */
export type EmptyRequest = Record<string, never>;

/** Every call: what it takes and what it answers. */
export interface CallMap {
  getStatus: { request: EmptyRequest; response: StatusDto };
  signIn: {
    request: { method: 'auto' | 'browser' | 'device-code'; scopes?: string[] };
    response: SignInAttemptDto;
  };
  cancelSignIn: { request: SignInAttemptDto; response: void };
  signOut: { request: { account?: string }; response: void };
  listAccounts: { request: EmptyRequest; response: AccountDto[] };
  useAccount: { request: { account: string }; response: AccountDto };
  listKeys: { request: EmptyRequest; response: KeyDto[] };
  createKey: {
    request: { name: string; tools: ToolNameDto[]; readOnly: boolean; account?: string };
    response: NewKeyDto;
  };
  revokeKey: { request: { id: string }; response: KeyDto };
  listApprovals: { request: EmptyRequest; response: ApprovalDto[] };
  decideApproval: { request: { id: string; decision: ApprovalDecisionDto }; response: void };
  listActivity: {
    request: {
      before?: number;
      limit?: number;
      keyName?: string;
      tool?: ToolNameDto;
      outcome?: 'allowed' | 'denied' | 'failed';
    };
    response: ActivityPageDto;
  };
  /** Tool calls of the last `minutes` (60 unless said) in `buckets` slices (30 unless said). */
  getActivityChart: { request: { minutes?: number; buckets?: number }; response: ActivityChartDto };
  /** The diagnostics log and its last `lines` (20 unless said). */
  getDiagnostics: { request: { lines?: number }; response: DiagnosticsDto };
  /** Opens the diagnostics log in the OS's viewer (desktop only). */
  openDiagnostics: { request: EmptyRequest; response: void };
  getPolicy: { request: EmptyRequest; response: PolicyDto };
  setToolEnabled: { request: { tool: ToolNameDto; enabled: boolean }; response: PolicyDto };
  getSettings: { request: EmptyRequest; response: SettingsDto };
  saveSettings: { request: { clientId: string; tenantId: string }; response: SettingsDto };
}

/** The name of a call. */
export type CallName = keyof CallMap;
/** A call's request. */
export type CallRequest<N extends CallName> = CallMap[N]['request'];
/** A call's response. */
export type CallResponse<N extends CallName> = CallMap[N]['response'];

/** The whole API the window uses: one method per call, plus a subscription to events. */
export type AppApi = { [N in CallName]: (request: CallRequest<N>) => Promise<CallResponse<N>> } & {
  /** Calls `listener` for every event until the returned function is called. */
  subscribe(listener: (event: AppEventDto) => void): () => void;
};

// Listed as keys so that the compiler refuses a call missing here or named here only.
const CALLS_LISTED = {
  getStatus: true,
  signIn: true,
  cancelSignIn: true,
  signOut: true,
  listAccounts: true,
  useAccount: true,
  listKeys: true,
  createKey: true,
  revokeKey: true,
  listApprovals: true,
  decideApproval: true,
  listActivity: true,
  getActivityChart: true,
  getDiagnostics: true,
  openDiagnostics: true,
  getPolicy: true,
  setToolEnabled: true,
  getSettings: true,
  saveSettings: true,
} as const satisfies Record<CallName, true>;

/** The names of all calls, for deriving handlers and verbs. */
export const CALL_NAMES = Object.keys(CALLS_LISTED) as CallName[];

/** What a call answers across a process boundary (IPC, HTTP): failures travel as data. */
export type CallOutcome<T = unknown> = { ok: true; result: T } | { ok: false; error: AppErrorDto };

/** The IPC channel of a call: one channel per call, so each has its own handler. */
export function callChannel(name: CallName): string {
  return `valet:call:${name}`;
}

/** The IPC channel the main process pushes AppEventDto on. */
export const EVENT_CHANNEL = 'valet:event';
