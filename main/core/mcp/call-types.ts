import type { ApprovalOutcome, PendingApproval } from '../approvals/approval-service.ts';
import type { AuditEvent, AuditStamp } from '../audit/audit-types.ts';
import type { AuthService } from '../auth/auth-service.ts';
import type { AccountSummary } from '../auth/auth-types.ts';
import type { GraphClient } from '../graph/graph-client.ts';
import type { MeCache } from '../graph/me-cache.ts';
import type { ValetKey } from '../keys/key-store.ts';
import type { Policy } from '../policy/policy-schema.ts';
import type { Logger } from '../util/logger.ts';
import type { ToolCallRecord } from './call-record.ts';
import type { GraphUser } from './tool-definition.ts';

export type { ToolCallRecord } from './call-record.ts';

/** Who is calling: the valet key of this request, and what the client said it is. */
export interface Caller {
  key: ValetKey;
  client?: { name: string; version: string };
  sessionId?: string;
}

/** Optional extras of a call from the MCP layer. */
export interface CallExtras {
  /** Sends a progress notification while the call waits for approval (when the client asked for progress). */
  progress?: (message: string) => Promise<void>;
}

/**
 * Where a call's account and its Graph tokens come from: the local sign-in (AuthService), or
 * in remote mode the signed-in user's shared token cache or an on-behalf-of exchange.
 */
export type AccountTokens = Pick<AuthService, 'resolveAccount' | 'getToken' | 'tokenFreshness'>;

/** What the runner asks an approval for: the prompt, before it has an ID and times. */
export type ApprovalRequest = Omit<PendingApproval, 'id' | 'requestedAt' | 'expiresAt'>;

/** What a call tells the approval service besides its prompt. */
export interface ApprovalCallContext {
  /** The call's checked arguments: the same call asked again can find the same approval. */
  args: Record<string, unknown>;
  /**
   * Replaces the progress message the waiting call sends (at once, when the client asked for
   * progress): where the user decides, when that is somewhere else than the app.
   */
  waitingAt(message: string): void;
}

/**
 * Holds a risky call until the user decides: the local ApprovalService, or remote mode's
 * approvals in the shared store. Aborting `signal` ends the wait as `cancelled`.
 */
export interface ApprovalRequester {
  request(
    input: ApprovalRequest,
    timeoutMs: number,
    signal?: AbortSignal,
    context?: ApprovalCallContext,
  ): Promise<ApprovalOutcome>;
}

/** The runner's collaborators. */
export interface ToolRunnerDeps {
  auth: AccountTokens;
  graph: GraphClient;
  meCache: MeCache<GraphUser>;
  policy: () => Promise<Policy>;
  approvals: ApprovalRequester;
  /**
   * Resolves once the record is written (the result waits for it), with where the log put
   * it; nothing when another process wrote it for us.
   */
  audit: (event: AuditEvent) => Promise<AuditStamp | void>;
  /**
   * Told about every finished call, once its record is written: `written` is where the log
   * put it. Undefined when the record could not be written (the call then failed with
   * `audit_failed`) or another process wrote it.
   */
  onCall?: (record: ToolCallRecord, written: AuditStamp | undefined) => void;
  logger?: Logger;
  now?: () => Date;
}

/** One call as it goes: its record so far, the account it acts as, and whether the tool started. */
export interface CallState {
  record: ToolCallRecord;
  caller: Caller;
  account?: AccountSummary;
  ran: boolean;
}
