import type { ApprovalOutcome } from '../approvals/approval-service.ts';
import type { AuditActor, AuditEvent, AuditRecord } from '../audit/audit-types.ts';

/**
 * One tool call, as one typed record: its audit records, the live log and the activity view
 * are all made from it. Arguments only as the audit log keeps them (sizes, never text); no
 * results.
 */
export interface ToolCallRecord {
  tool: string;
  keyId: string;
  keyName: string;
  /** The account the call acted as (its username). */
  account: string | undefined;
  /** The client as it named itself, e.g. `Claude 1.0.0`. */
  client: string | undefined;
  /** A remote call's OAuth client ID (valet mode) or Entra app ID (entra mode). */
  clientId?: string;
  /** A remote call's user by Entra object ID. */
  oid?: string;
  outcome: 'ok' | 'denied' | 'failed';
  errorCode?: string;
  /** The policy rule that refused the call. */
  rule?: string;
  /** The arguments as the audit log keeps them. */
  args?: Record<string, unknown>;
  /** How the user's approval ended, for a call that needed one. */
  approval?: ApprovalOutcome;
  durationMs: number;
  /** Graph's request-id of every Graph request the call made. */
  graphRequestIds: string[];
}

/** The audit log's word for each outcome. */
const AUDIT_OUTCOME = { ok: 'allowed', denied: 'denied', failed: 'failed' } as const;

/** Who made the call, for its audit records: the key, its account and its client. */
function actorOf(call: ToolCallRecord): AuditActor {
  const actor: AuditActor = { keyId: call.keyId, keyName: call.keyName };
  if (call.account !== undefined) actor.account = call.account;
  if (call.oid !== undefined) actor.oid = call.oid;
  if (call.client !== undefined) actor.client = call.client;
  if (call.clientId !== undefined) actor.clientId = call.clientId;
  return actor;
}

/** The `tool_call` audit record of a finished call. */
export function toolCallAudit(call: ToolCallRecord): AuditEvent {
  const details: Record<string, unknown> = { tool: call.tool };
  if (call.rule !== undefined) details.rule = call.rule;
  if (call.args !== undefined) details.args = call.args;
  if (call.approval !== undefined) details.approval = call.approval;
  details.durationMs = call.durationMs;
  details.graphRequestIds = call.graphRequestIds;
  if (call.errorCode !== undefined) details.error = call.errorCode;
  return {
    type: 'tool_call',
    actor: actorOf(call),
    outcome: AUDIT_OUTCOME[call.outcome],
    details,
  };
}

/** The `tool_intent` audit record written before a tool that changes data runs. */
export function toolIntentAudit(call: ToolCallRecord): AuditEvent {
  const details: Record<string, unknown> = { tool: call.tool, args: call.args };
  if (call.approval !== undefined) details.approval = call.approval;
  return { type: 'tool_intent', actor: actorOf(call), outcome: 'pending', details };
}

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
const OUTCOME_OF: Record<string, ToolCallRecord['outcome']> = {
  allowed: 'ok',
  denied: 'denied',
  failed: 'failed',
};

/**
 * The call a `tool_call` audit record tells of; undefined for any other record. The runner
 * writes every field; what a record edited by hand lacks reads as empty (and an outcome the
 * log does not know as failed): `audit verify` is what judges such a record.
 */
export function toolCallOf(record: AuditRecord): ToolCallRecord | undefined {
  if (record.type !== 'tool_call') return undefined;
  const d = record.details ?? {};
  const call: ToolCallRecord = {
    tool: text(d.tool) ?? '',
    keyId: record.actor?.keyId ?? '',
    keyName: record.actor?.keyName ?? '',
    account: record.actor?.account,
    client: record.actor?.client,
    outcome: OUTCOME_OF[record.outcome] ?? 'failed',
    durationMs: typeof d.durationMs === 'number' ? d.durationMs : 0,
    graphRequestIds: Array.isArray(d.graphRequestIds)
      ? d.graphRequestIds.filter((x): x is string => typeof x === 'string')
      : [],
  };
  if (record.actor?.clientId !== undefined) call.clientId = record.actor.clientId;
  if (record.actor?.oid !== undefined) call.oid = record.actor.oid;
  const error = text(d.error);
  if (error !== undefined) call.errorCode = error;
  const rule = text(d.rule);
  if (rule !== undefined) call.rule = rule;
  if (typeof d.args === 'object' && d.args !== null && !Array.isArray(d.args))
    call.args = d.args as Record<string, unknown>;
  const approval = text(d.approval);
  if (approval !== undefined) call.approval = approval as ApprovalOutcome;
  return call;
}
