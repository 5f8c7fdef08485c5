import type { PendingApproval } from '../../main/core/approvals/approval-service.ts';

/** A send_mail approval as the runner asks for one, with no client named and no summary lines. */
export const SEND_MAIL_APPROVAL: Omit<PendingApproval, 'id' | 'requestedAt' | 'expiresAt'> = {
  tool: 'send_mail',
  action: 'Send an email',
  key: { id: 'k1', name: 'claude' },
  client: null,
  account: 'adele@contoso.test',
  summary: [],
};
