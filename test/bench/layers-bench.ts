// Benchmark child: what policy and audit cost. Two endpoints in one process, built from the
// same core pieces — one with the policy store, approvals gate, rate limits and durable
// audit, one without — driven alternately over real HTTP. Then the audit log's own
// throughput with durability on. Prints one JSON line.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../main/core/audit/audit-log.ts';
import { McpEndpoint } from '../../main/core/endpoint/mcp-endpoint.ts';
import { MeCache } from '../../main/core/graph/me-cache.ts';
import { createMcpServer } from '../../main/core/mcp/server-factory.ts';
import type { GraphUser } from '../../main/core/mcp/tool-definition.ts';
import { ToolRunner } from '../../main/core/mcp/tool-runner.ts';
import { DEFAULT_POLICY } from '../../main/core/policy/policy-schema.ts';
import { startBenchTenant } from './bench-tenant.ts';
import { compare, drive } from './drive.ts';

const tenant = await startBenchTenant('layers');
const { core, secret } = tenant;

// On: the core as shipped (policy store, decisions, rate limits, durable audit).
const on = await core.startEndpoint();
// Off: the same pieces with a fixed default policy, no rate limits and no audit.
const plain = new ToolRunner({
  auth: core.auth,
  graph: core.graph,
  meCache: new MeCache<GraphUser>(),
  policy: async () => DEFAULT_POLICY,
  approvals: core.approvals,
  audit: async () => {},
});
const off = new McpEndpoint({
  port: 0,
  keys: core.keys,
  createServer: () => createMcpServer(core.tools, plain),
});
await off.start();

const onTarget = { url: on.url, secret };
const offTarget = { url: off.url, secret };
await drive(onTarget, 8, 1000);
await drive(offTarget, 8, 1000);
const c1 = await compare(onTarget, offTarget, 1, 2000);
const c32 = await compare(onTarget, offTarget, 32, 6400);
await off.close();
await core.close();

// The audit log alone: 50,000 records, appended 500 at a time, fsync grouped, all synced at the end.
const audit = new AuditLog(await mkdtemp(join(tmpdir(), 'valet-bench-audit-')));
await audit.holdExclusive();
const N = 50_000;
const started = performance.now();
for (let i = 0; i < N; i += 500) {
  await Promise.all(
    Array.from({ length: 500 }, (_, j) =>
      audit.append({
        type: 'tool_call',
        actor: { keyId: 'k', keyName: 'bench', account: 'adele@contoso.test' },
        outcome: 'allowed',
        details: { tool: 'get_user_details', durationMs: 1.2, graphRequestIds: [], n: i + j },
      }),
    ),
  );
}
await audit.close();
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({ c1: { on: c1.a, off: c1.b }, c32: { on: c32.a, off: c32.b }, audit: { records: N, seconds, perSecond: N / seconds } })}\n`,
);
await tenant.close();
