import type {
  ApprovalDecision,
  PendingApproval,
  SummaryLine,
} from '../../approvals/approval-service.ts';
import type { CacheKeys } from '../cache-keys.ts';
import { open, seal } from '../sealed-value.ts';
import type { SharedStore } from '../store/shared-store.ts';

/** Where an approval stands. A pending one past its expiry reads as `timed-out`. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'timed-out' | 'cancelled';

/** An approval as the store holds it, for the page, the waiting call and the user's list. */
export interface StoredApproval extends PendingApproval {
  /** The Entra object ID of the user who alone may decide. */
  oid: string;
  status: ApprovalStatus;
  /** The decision, once the user made one. */
  decision?: ApprovalDecision;
  /** When it was decided, timed out or cancelled. */
  endedAt?: string;
  /** An approve-once decision that a call has already used. */
  used: boolean;
  /** The hash that names the call (see approval-id.ts). */
  callKey: string;
}

/** How an approval ended, as `approval-outcome:{id}` holds it: written once (SET NX). */
export interface ApprovalEnd {
  status: Exclude<ApprovalStatus, 'pending'>;
  decision?: ApprovalDecision;
  at: string;
}

/** The store key names of one approval and its call. */
export const approvalKeys = {
  record: (id: string) => `approval:${id}`,
  /** The one outcome of the approval's current round; whoever writes it first decides. */
  outcome: (id: string) => `approval-outcome:${id}`,
  /** An approve-once grant: taken (GETDEL) by the one call that runs on it. */
  grant: (id: string) => `approval-grant:${id}`,
  /** The approval a call is bound to now. */
  call: (callKey: string) => `approval-call:${callKey}`,
  /** The user's pending approvals, scored by expiry. */
  pending: (oid: string) => `approvals:${oid}`,
  window: (keyId: string, tool: string) => `approval-window:${keyId}:${tool}`,
  /** The tools with a window of a key, so that revoking the key can end them. */
  windows: (keyId: string) => `approval-windows:${keyId}`,
} as const;

/** The channel a decision is published on (the approval ID), waking waiters on every instance. */
export const APPROVAL_CHANNEL = 'ev:approval';

/** The context a summary is sealed under: its own record, so it opens nowhere else. */
function summaryContext(id: string): string {
  return `${approvalKeys.record(id)}#summary`;
}

/**
 * Writes the record of a pending approval. The summary (recipients, subjects, text) is sealed
 * under the cache key when there is one; nothing of it is readable in the store then.
 */
export async function writePending(
  store: SharedStore,
  cacheKeys: CacheKeys | undefined,
  approval: PendingApproval,
  owner: { oid: string; callKey: string },
  ttlMs: number,
): Promise<void> {
  const summary = JSON.stringify(approval.summary);
  await store.hSet(
    approvalKeys.record(approval.id),
    {
      oid: owner.oid,
      callKey: owner.callKey,
      tool: approval.tool,
      action: approval.action,
      keyId: approval.key.id,
      keyName: approval.key.name,
      client: JSON.stringify(approval.client),
      account: approval.account,
      summary: cacheKeys ? seal(summary, cacheKeys, summaryContext(approval.id)) : summary,
      sealed: cacheKeys ? '1' : '0',
      requestedAt: approval.requestedAt,
      expiresAt: approval.expiresAt,
      status: 'pending',
      used: '0',
    },
    { ttlMs },
  );
}

/** The approval `id`, or undefined when there is none (never made, or gone with its TTL). */
export async function readApproval(
  store: SharedStore,
  cacheKeys: CacheKeys | undefined,
  id: string,
  now: number,
): Promise<StoredApproval | undefined> {
  const [f, endText] = await Promise.all([
    store.hGetAll(approvalKeys.record(id)),
    store.get(approvalKeys.outcome(id)),
  ]);
  if (!f.oid || !f.tool || !f.expiresAt || !f.requestedAt || !f.callKey) return undefined;
  const end = endText ? (JSON.parse(endText) as ApprovalEnd) : undefined;
  const expired = Date.parse(f.expiresAt) <= now;
  const status: ApprovalStatus = end?.status ?? (expired ? 'timed-out' : 'pending');
  return {
    id,
    oid: f.oid,
    callKey: f.callKey,
    tool: f.tool,
    action: f.action ?? f.tool,
    key: { id: f.keyId ?? '', name: f.keyName ?? '' },
    client: parseClient(f.client),
    account: f.account ?? '',
    summary: openSummary(f, cacheKeys, id),
    requestedAt: f.requestedAt,
    expiresAt: f.expiresAt,
    status,
    ...(end?.decision ? { decision: end.decision } : {}),
    ...(end ? { endedAt: end.at } : expired ? { endedAt: f.expiresAt } : {}),
    used: f.used === '1',
  };
}

function openSummary(
  f: Record<string, string>,
  cacheKeys: CacheKeys | undefined,
  id: string,
): SummaryLine[] {
  const raw = f.summary ?? '[]';
  if (f.sealed !== '1') return JSON.parse(raw) as SummaryLine[];
  // A summary that does not open is never shown in part: the page says so instead.
  if (!cacheKeys)
    throw new Error(
      `the summary of ${approvalKeys.record(id)} is sealed and no cache key is configured`,
    );
  return JSON.parse(open(raw, cacheKeys, summaryContext(id))) as SummaryLine[];
}

function parseClient(text: string | undefined): PendingApproval['client'] {
  if (!text) return null;
  const value = JSON.parse(text) as PendingApproval['client'];
  return value && typeof value.name === 'string' ? value : null;
}
