import { readAuditNewestFirst } from '../../audit/audit-newest-first.ts';
import type { AuditRecord } from '../../audit/audit-types.ts';

/** One tool call as the user's page lists it: nothing of its arguments or results. */
export interface ActivityLine {
  time: string;
  tool: string;
  /** allowed, denied or failed, as the audit log says. */
  outcome: string;
  /** The error code or the rule that decided a refusal, when there was one. */
  reason?: string;
  /** The client as the log names it: `<name> <client ID>`. */
  client: string;
  keyId: string;
  /** The account the call acted as. */
  account: string;
}

/** Whose calls to list; undefined lists everyone's. */
export interface ActivityOwner {
  /** The user's valet keys (valet mode calls name their key). */
  keyIds: readonly string[];
  /** The user's sign-in name (entra mode calls name only the account). */
  username: string;
}

/** How far back the page reads the log for one user's calls, so a quiet user costs little. */
const MAX_SCANNED = 5_000;

/**
 * The newest tool calls in this instance's audit log in `auditDir`: all of them, or those of
 * one user (their keys' calls, and calls that acted as their account), at most `limit`.
 */
export async function recentActivity(
  auditDir: string,
  owner: ActivityOwner | undefined,
  limit = 50,
): Promise<ActivityLine[]> {
  const keys = new Set(owner?.keyIds ?? []);
  const username = owner?.username.toLowerCase();
  const found: ActivityLine[] = [];
  let scanned = 0;
  for await (const record of readAuditNewestFirst(auditDir, { type: 'tool_call' })) {
    if (++scanned > MAX_SCANNED) break;
    const line = lineOf(record);
    if (owner && !keys.has(line.keyId) && line.account.toLowerCase() !== username) continue;
    found.push(line);
    if (found.length >= limit) break;
  }
  return found;
}

function lineOf(record: AuditRecord): ActivityLine {
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const reason = text(record.details?.error) || text(record.details?.rule);
  return {
    time: record.time,
    tool: text(record.details?.tool),
    outcome: record.outcome,
    ...(reason ? { reason } : {}),
    client: record.actor?.client ?? '',
    keyId: record.actor?.keyId ?? '',
    account: record.actor?.account ?? '',
  };
}
