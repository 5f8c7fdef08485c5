import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ApprovalService } from '../../main/core/approvals/approval-service.ts';
import { AuditLog } from '../../main/core/audit/audit-log.ts';
import type { Caller } from '../../main/core/mcp/call-types.ts';
import { callerAuthInfo } from '../../main/core/mcp/server-factory.ts';
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

/**
 * A client of `server` over an in-memory link, whose every request carries `caller` (and
 * `closed`, the signal of a client that hung up) as the local endpoint attaches them.
 */
export async function connectAs(
  server: McpServer,
  caller: Caller,
  options: { closed?: AbortSignal; name?: string } = {},
): Promise<Client> {
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const send = clientSide.send.bind(clientSide);
  const authInfo = callerAuthInfo(caller, options.closed);
  clientSide.send = (message, sendOptions) => send(message, { ...sendOptions, authInfo });
  const client = new Client({ name: options.name ?? 'in-memory', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}
