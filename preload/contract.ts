// The AppApi contract: every call and event the window needs, with the DTOs they carry.
// One definition for all sides: the Electron preload derives its verbs and the main process
// its IPC handlers from CALLS; the web bridge serves the same calls over HTTP. DTOs carry
// no tokens, no valet key hashes and no raw MSAL objects.
import { z } from 'zod';

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

/** What the status view shows. */
export interface StatusDto {
  /** false until a client ID is set (first run). */
  configured: boolean;
  demo: boolean;
  clientId: string | null;
  tenantId: string;
  authority: string;
  account: AccountDto | null;
  tokens: TokenFreshnessDto[];
  broker: {
    mode: string;
    available: boolean;
    reason: string;
    lastFallback?: { at: string; reason: string };
  };
  cache: { kind: string; persisted: boolean; reason: string };
  endpoint: { url: string | null; running: boolean };
  /** Graph permissions some tool needs that the active account has not consented to. */
  missingScopes: string[];
}

/** A valet key as the window sees it: never the secret or its hash. */
export interface KeyDto {
  id: string;
  name: string;
  tools: ToolNameDto[];
  readOnly: boolean;
  account: { homeAccountId: string; username: string } | null;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** A new key: its secret is shown once, with configurations ready to paste. */
export interface NewKeyDto {
  key: KeyDto;
  secret: string;
  configs: { vscode: string; cursor: string; claudeDesktop: string };
}

/** A call waiting for the user's decision, with the faithful summary of what it will do. */
export interface ApprovalDto {
  id: string;
  tool: string;
  action: string;
  key: { id: string; name: string };
  client: { name: string; version: string } | null;
  account: string;
  summary: Array<{ label: string; value: string }>;
  requestedAt: string;
  expiresAt: string;
}

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

/** How an interactive sign-in goes on: a URL to open, a device code to enter, or the OS broker or system browser at work. */
export type SignInStartDto =
  | { kind: 'browser'; url: string }
  | {
      kind: 'device-code';
      verificationUri: string;
      userCode: string;
      message: string;
      expiresInSeconds: number;
    }
  | { kind: 'system' };

/** Events pushed to the window. */
export type AppEventDto =
  | { type: 'auth-changed'; status: StatusDto }
  | { type: 'sign-in-failed'; message: string }
  | { type: 'activity'; item: ActivityDto }
  | { type: 'approval-requested'; approval: ApprovalDto }
  | { type: 'approval-decided'; id: string; outcome: string }
  | { type: 'endpoint-changed'; endpoint: { url: string | null; running: boolean } }
  /** The desktop shell asks the window to show a view (the tray's "approvals waiting"). */
  | { type: 'show-view'; view: 'approvals' | 'status' };

/** A failed call: a stable code and a message a person can act on. */
export interface AppErrorDto {
  code: string;
  message: string;
}

const guid = z
  .string()
  .trim()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a GUID');
const accountRef = z.object({ account: z.string().min(1).max(320) });
const toolName = z.enum(TOOL_NAMES);

/**
 * Every call: its request schema (validated on the receiving side, in IPC and HTTP alike)
 * and, as a phantom type, its response.
 */
export const CALLS = {
  getStatus: { request: z.object({}), response: null as unknown as StatusDto },
  signIn: {
    request: z.object({
      method: z.enum(['auto', 'browser', 'device-code']),
      scopes: z.array(z.string().min(1).max(100)).max(20).optional(),
    }),
    response: null as unknown as SignInStartDto,
  },
  cancelSignIn: { request: z.object({}), response: null as unknown as void },
  signOut: {
    request: z.object({ account: z.string().min(1).max(320).optional() }),
    response: null as unknown as void,
  },
  listAccounts: { request: z.object({}), response: null as unknown as AccountDto[] },
  useAccount: { request: accountRef, response: null as unknown as AccountDto },
  listKeys: { request: z.object({}), response: null as unknown as KeyDto[] },
  createKey: {
    request: z.object({
      name: z.string().trim().min(1).max(64),
      tools: z.array(toolName).min(1).max(TOOL_NAMES.length),
      readOnly: z.boolean(),
      account: z.string().min(1).max(320).optional(),
    }),
    response: null as unknown as NewKeyDto,
  },
  revokeKey: {
    request: z.object({ id: z.string().min(1).max(64) }),
    response: null as unknown as KeyDto,
  },
  listApprovals: { request: z.object({}), response: null as unknown as ApprovalDto[] },
  decideApproval: {
    request: z.object({
      id: z.string().min(1).max(64),
      decision: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('once') }),
        z.object({ kind: z.literal('window'), minutes: z.number().int().min(1).max(1440) }),
        z.object({ kind: z.literal('deny') }),
      ]),
    }),
    response: null as unknown as void,
  },
  listActivity: {
    request: z.object({
      before: z.number().int().positive().optional(),
      limit: z.number().int().min(1).max(200).optional(),
      keyName: z.string().max(64).optional(),
      tool: toolName.optional(),
      outcome: z.enum(['allowed', 'denied', 'failed']).optional(),
    }),
    response: null as unknown as ActivityPageDto,
  },
  getPolicy: { request: z.object({}), response: null as unknown as PolicyDto },
  setToolEnabled: {
    request: z.object({ tool: toolName, enabled: z.boolean() }),
    response: null as unknown as PolicyDto,
  },
  getSettings: { request: z.object({}), response: null as unknown as SettingsDto },
  saveSettings: {
    request: z.object({ clientId: guid, tenantId: z.string().trim().min(1).max(253) }),
    response: null as unknown as SettingsDto,
  },
} as const;

/** The name of a call. */
export type CallName = keyof typeof CALLS;
/** A call's request. */
export type CallRequest<N extends CallName> = z.input<(typeof CALLS)[N]['request']>;
/** A call's response. */
export type CallResponse<N extends CallName> = (typeof CALLS)[N]['response'];

/** The whole API the window uses: one method per call, plus a subscription to events. */
export type AppApi = { [N in CallName]: (request: CallRequest<N>) => Promise<CallResponse<N>> } & {
  /** Calls `listener` for every event until the returned function is called. */
  subscribe(listener: (event: AppEventDto) => void): () => void;
};

/** The names of all calls, for deriving handlers and verbs. */
export const CALL_NAMES = Object.keys(CALLS) as CallName[];

/** What a call answers across a process boundary (IPC, HTTP): failures travel as data. */
export type CallOutcome<T = unknown> = { ok: true; result: T } | { ok: false; error: AppErrorDto };

/** The IPC channel of a call: one channel per call, so each has its own handler. */
export function callChannel(name: CallName): string {
  return `valet:call:${name}`;
}

/** The IPC channel the main process pushes AppEventDto on. */
export const EVENT_CHANNEL = 'valet:event';
