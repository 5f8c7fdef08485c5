import type { AuditRecord } from '../../audit/audit-types.ts';
import type { StreamEntry } from '../store/shared-store.ts';

/** The stream every instance adds its audit records to, for the live activity view (`mv:audit`). */
export const ACTIVITY_STREAM = 'audit';

/** About how many records the activity stream keeps: older ones are trimmed (MAXLEN ~). */
export const ACTIVITY_MAX_LEN = 100_000;

/** The hash where an instance publishes the last record of its chain (`mv:audit:head:{id}`). */
export function auditHeadKey(instanceId: string): string {
  return `audit:head:${instanceId}`;
}

/**
 * One audit record as the live activity view across instances sees it: who did what, where
 * and how it ended. It carries no arguments, no message bodies and no tokens; the instance's
 * own chain (`instance`, `seq`) holds the full record.
 */
export interface SharedActivityItem {
  /** The stream entry's ID: the cursor for older pages. */
  id: string;
  /** The instance whose audit chain holds the record. */
  instance: string;
  /** The record's number in that chain. */
  seq: number;
  time: string;
  type: string;
  outcome: string;
  tool: string | null;
  /** The user's Entra object ID. */
  oid: string | null;
  keyId: string | null;
  keyName: string | null;
  /** The client as it named itself (its registered name). */
  client: string | null;
  /** The OAuth client ID (valet mode) or Entra app ID (entra mode). */
  clientId: string | null;
  /** The user's username. */
  account: string | null;
  durationMs: number | null;
  /** The policy rule or error code, when a call was refused or failed. */
  reason: string | null;
}

/** The head an instance publishes: its chain's last record. */
export interface PublishedHead {
  seq: number;
  hash: string;
  time: string;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

/**
 * The stream fields of `record`, written by `instanceId`: only what the activity view shows,
 * picked field by field so nothing else a record holds (arguments) can slip in.
 */
export function activityFields(record: AuditRecord, instanceId: string): Record<string, string> {
  const { actor, details } = record;
  const picked: Record<string, string | undefined> = {
    instance: instanceId,
    seq: String(record.seq),
    time: record.time,
    type: record.type,
    outcome: record.outcome,
    tool: text(details?.tool),
    oid: actor?.oid,
    keyId: actor?.keyId,
    keyName: actor?.keyName,
    client: actor?.client,
    clientId: actor?.clientId,
    account: actor?.account,
    durationMs: typeof details?.durationMs === 'number' ? String(details.durationMs) : undefined,
    reason: text(details?.rule) ?? text(details?.error),
  };
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(picked)) if (value !== undefined) fields[name] = value;
  return fields;
}

/** A stream entry as an activity item; fields it lacks read as null. */
export function activityItem({ id, fields }: StreamEntry): SharedActivityItem {
  const duration = fields.durationMs === undefined ? NaN : Number(fields.durationMs);
  return {
    id,
    instance: fields.instance ?? '',
    seq: Number(fields.seq ?? 0),
    time: fields.time ?? '',
    type: fields.type ?? '',
    outcome: fields.outcome ?? '',
    tool: fields.tool ?? null,
    oid: fields.oid ?? null,
    keyId: fields.keyId ?? null,
    keyName: fields.keyName ?? null,
    client: fields.client ?? null,
    clientId: fields.clientId ?? null,
    account: fields.account ?? null,
    durationMs: Number.isFinite(duration) ? duration : null,
    reason: fields.reason ?? null,
  };
}

/** A head as the instance's hash holds it; undefined when it holds none that reads. */
export function headOf(hash: Record<string, string>): PublishedHead | undefined {
  const seq = Number(hash.seq);
  if (!Number.isSafeInteger(seq) || seq < 1 || !/^[0-9a-f]{64}$/.test(hash.hash ?? ''))
    return undefined;
  return { seq, hash: hash.hash!, time: hash.time ?? '' };
}
