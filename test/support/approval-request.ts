import type { PendingApproval } from '../../main/core/approvals/approval-service.ts';

/** A send_mail approval as the runner asks for one of `key` as `account`, with no client named and no summary lines. */
export function sendMailApproval(
  key: { id: string; name: string } = { id: 'k1', name: 'claude' },
  account = 'adele@contoso.test',
): Omit<PendingApproval, 'id' | 'requestedAt' | 'expiresAt'> {
  return {
    tool: 'send_mail',
    action: 'Send an email',
    key: { id: key.id, name: key.name },
    client: null,
    account,
    summary: [],
  };
}
