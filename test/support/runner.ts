import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApprovalService } from '../../main/core/approvals/approval-service.ts';
import { AuditLog } from '../../main/core/audit/audit-log.ts';
import { DEFAULT_POLICY, type Policy } from '../../main/core/policy/policy-schema.ts';

/**
 * The policy, approval and audit collaborators of a ToolRunner for tests that exercise the
 * tools themselves: the default policy, a real audit log in a temporary directory, and an
 * approval service whose user approves every request at once (as a person clicking Approve).
 */
export function runnerPolicyDeps(policy: Policy = DEFAULT_POLICY): {
  policy: () => Promise<Policy>;
  approvals: ApprovalService;
  audit: AuditLog['append'];
  auditLog: AuditLog;
} {
  const approvals = new ApprovalService();
  approvals.on('approval-requested', (a) => approvals.decide(a.id, { kind: 'once' }));
  const auditLog = new AuditLog(mkdtempSync(join(tmpdir(), 'valet-runner-audit-')));
  return {
    policy: async () => policy,
    approvals,
    audit: (event) => auditLog.append(event),
    auditLog,
  };
}
