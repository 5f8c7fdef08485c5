import type { PendingApproval } from '../approvals/approval-service.ts';
import type { AuditEvent } from '../audit/audit-types.ts';
import type { ValetCore } from './valet-core.ts';

/**
 * The record of a prompt shown to the user. It is written before the prompt is shown (see
 * ApprovalService), not after: a prompt that leaves no trace is never shown. No summary.
 */
export function approvalRequested(a: PendingApproval): AuditEvent {
  return {
    type: 'approval_requested',
    actor: {
      keyId: a.key.id,
      keyName: a.key.name,
      account: a.account,
      ...(a.client ? { client: `${a.client.name} ${a.client.version}` } : {}),
    },
    outcome: 'pending',
    details: { tool: a.tool, approvalId: a.id },
  };
}

/** Records sign-in and approval decisions of the core in the audit log. Approval summaries are never recorded. */
export function auditCoreEvents(core: ValetCore, record: (event: AuditEvent) => void): void {
  const { auth, approvals } = core;
  auth.on('signed-in', ({ account, method }) =>
    record({
      type: 'sign_in',
      actor: { account: account.username },
      outcome: 'ok',
      details: { method, tenantId: account.tenantId },
    }),
  );
  auth.on('signed-out', ({ account }) =>
    record({ type: 'sign_out', actor: { account: account.username }, outcome: 'ok' }),
  );
  auth.on('token-refreshed', ({ account, scopes }) =>
    record({
      type: 'token_refresh',
      actor: { account: account.username },
      outcome: 'ok',
      details: { scopes },
    }),
  );
  auth.on('interaction-required', ({ account, scopes }) =>
    record({
      type: 'auth_failure',
      ...(account ? { actor: { account: account.username } } : {}),
      outcome: 'interaction_required',
      details: { scopes },
    }),
  );
  auth.on('failed', ({ operation, code }) =>
    record({ type: 'auth_failure', outcome: code, details: { operation } }),
  );
  approvals.on('approval-decided', (d) =>
    record({
      type: 'approval_decided',
      actor: { keyId: d.key.id, keyName: d.key.name, account: d.account },
      outcome: d.outcome,
      details: {
        tool: d.tool,
        approvalId: d.id,
        ...(d.decision?.kind === 'window' ? { minutes: d.decision.minutes } : {}),
      },
    }),
  );
}
