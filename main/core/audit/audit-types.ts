/** Every kind of audit record. */
export const AUDIT_TYPES = [
  'sign_in',
  'sign_out',
  'token_refresh',
  'auth_failure',
  'key_created',
  'key_revoked',
  'client_connected',
  'tool_intent',
  'tool_call',
  'approval_requested',
  'approval_decided',
  'endpoint_rejected',
  'rate_limited',
  'policy_changed',
  'config_changed',
  'log_recovered',
  'log_pruned',
] as const;
/** One of AUDIT_TYPES. */
export type AuditType = (typeof AUDIT_TYPES)[number];

/** Who acted: the valet key and its client, and the account acted as. Never a secret. */
export interface AuditActor {
  keyId?: string;
  keyName?: string;
  account?: string;
  /** A remote call's user by Entra object ID, which outlives a changed username. */
  oid?: string;
  /** The client as it named itself (`Claude 1.0.0` locally; the registered name remotely). */
  client?: string;
  /** A remote call's OAuth client ID (valet mode) or Entra app ID (entra mode). */
  clientId?: string;
}

/** What happened, before it is numbered and chained. Details never hold tokens, keys or message bodies. */
export interface AuditEvent {
  type: AuditType;
  actor?: AuditActor;
  outcome: string;
  details?: Record<string, unknown>;
}

/** A written record: numbered, timed, and chained to the one before by `prev` (that record's `hash`). */
export interface AuditRecord extends AuditEvent {
  seq: number;
  time: string;
  prev: string;
  hash: string;
}

/** Where the log put a record: its number in the chain and the time it carries. */
export interface AuditStamp {
  seq: number;
  time: string;
}

/** The `prev` of the very first record. */
export const GENESIS = '0'.repeat(64);
