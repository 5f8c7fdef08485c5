import type { ApprovalService } from '../approvals/approval-service.ts';
import type { AuditEvent } from '../audit/audit-types.ts';
import type { AuthService } from '../auth/auth-service.ts';
import type { AccountSummary } from '../auth/auth-types.ts';
import type { GraphClient } from '../graph/graph-client.ts';
import type { MeCache } from '../graph/me-cache.ts';
import type { ValetKey } from '../keys/key-store.ts';
import type { Policy } from '../policy/policy-schema.ts';
import type { Logger } from '../util/logger.ts';
import type { GraphUser } from './tool-definition.ts';

/** Who is calling: the valet key of this request, and what the client said it is. */
export interface Caller {
  key: ValetKey;
  client?: { name: string; version: string };
  sessionId?: string;
}

/** What happened in one tool call, for the live log and the activity view. No arguments, no results. */
export interface ToolCallRecord {
  tool: string;
  keyId: string;
  keyName: string;
  account: string | undefined;
  client: string | undefined;
  outcome: 'ok' | 'denied' | 'failed';
  errorCode?: string;
  durationMs: number;
  /** Graph's request-id of every Graph request the call made. */
  graphRequestIds: string[];
}

/** Optional extras of a call from the MCP layer. */
export interface CallExtras {
  /** Sends a progress notification while the call waits for approval (when the client asked for progress). */
  progress?: (message: string) => Promise<void>;
}

/** The runner's collaborators. */
export interface ToolRunnerDeps {
  auth: AuthService;
  graph: GraphClient;
  meCache: MeCache<GraphUser>;
  policy: () => Promise<Policy>;
  approvals: ApprovalService;
  /** Resolves once the record is written; the result waits for it. */
  audit: (event: AuditEvent) => Promise<void>;
  /** Told about every finished call. */
  onCall?: (record: ToolCallRecord) => void;
  logger?: Logger;
  now?: () => Date;
}

/** One call as it goes: what its audit records will say, and whether the tool started. */
export interface CallState {
  name: string;
  caller: Caller;
  account?: AccountSummary;
  /** The tool_call record's details; the tool_intent record takes its args and approval. */
  details: Record<string, unknown>;
  graphRequestIds: string[];
  ran: boolean;
}
