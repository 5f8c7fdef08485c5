import type { AuditEvent } from '../audit/audit-types.ts';
import type { ValetCore } from './valet-core.ts';

/** Records sign-in and approval events of the core in the audit log. Approval summaries are never recorded. */
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
  approvals.on('approval-requested', (a) =>
    record({
      type: 'approval_requested',
      actor: {
        keyId: a.key.id,
        keyName: a.key.name,
        account: a.account,
        ...(a.client ? { client: `${a.client.name} ${a.client.version}` } : {}),
      },
      outcome: 'pending',
      details: { tool: a.tool, approvalId: a.id },
    }),
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
