import type { ApprovalDto, KeyDto } from '../../../../preload/contract.ts';
import type { StoredApproval } from '../approvals/approval-records.ts';
import type { RemoteKey } from '../oauth/remote-keys.ts';

/** A remote key for the page: its grant and its user, never a token or a token's hash. */
export function teamKeyDto(key: RemoteKey): KeyDto {
  return {
    id: key.id,
    name: key.name,
    clientId: key.clientId,
    tools: [...key.tools],
    readOnly: key.readOnly,
    account: { homeAccountId: key.homeAccountId, username: key.username || key.oid },
    createdAt: key.createdAt,
    ...(key.lastUsedAt ? { lastUsedAt: key.lastUsedAt } : {}),
    ...(key.revokedAt ? { revokedAt: key.revokedAt } : {}),
  };
}

/**
 * A pending approval for its own user's page, as the desktop shows one: the summary is for
 * that user's eyes; the store's bookkeeping (owner, call hash, grant use) stays on the server.
 */
export function teamApprovalDto(a: StoredApproval): ApprovalDto {
  return {
    id: a.id,
    tool: a.tool,
    action: a.action,
    key: { id: a.key.id, name: a.key.name },
    client: a.client,
    account: a.account,
    summary: a.summary.map((line) => ({ label: line.label, value: line.value })),
    requestedAt: a.requestedAt,
    expiresAt: a.expiresAt,
  };
}
