// Benchmark child: what policy and audit cost. Two endpoints in one process, built from the
// same core pieces — one with the policy store, approvals gate, rate limits and durable
// audit, one without — driven alternately over real HTTP. Then the audit log's own
// throughput with durability on. Prints one JSON line.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValetCore } from '../../main/core/app/valet-core.ts';
import { AuditLog } from '../../main/core/audit/audit-log.ts';
import { loadConfig } from '../../main/core/config/load-config.ts';
import { McpEndpoint } from '../../main/core/endpoint/mcp-endpoint.ts';
import { MeCache } from '../../main/core/graph/me-cache.ts';
import { createMcpServer } from '../../main/core/mcp/server-factory.ts';
import type { GraphUser } from '../../main/core/mcp/tool-definition.ts';
import { ToolRunner } from '../../main/core/mcp/tool-runner.ts';
import { DEFAULT_POLICY } from '../../main/core/policy/policy-schema.ts';
import { startGraphStandIn } from '../../main/demo/graph/index.ts';
import { DEMO_USERS, startIdp, type IdpUser } from '../../main/demo/idp/index.ts';
import { compare, drive } from './drive.ts';

const [adele] = DEMO_USERS as [IdpUser];
const ca = {
  certPem: await readFile(process.env.BENCH_CA_CERT!, 'utf8'),
  keyPem: await readFile(process.env.BENCH_CA_KEY!, 'utf8'),
};
const idp = await startIdp({ ca, deviceCodeIntervalSeconds: 1 });
const graph = await startGraphStandIn({
  issuer: idp.issuer,
  keys: { jwksUri: idp.jwksUri },
  users: [...idp.users],
});
const dataDir = await mkdtemp(join(tmpdir(), 'valet-bench-layers-'));
// Limits high enough that the benchmark measures the layers, not the limiter refusing.
await writeFile(
  join(dataDir, 'config.json'),
  JSON.stringify({
    policy: {
      rateLimits: {
        requestsPerMinute: 100_000,
        burst: 10_000,
        concurrentPerKey: 1_000,
        concurrentTotal: 10_000,
      },
    },
  }),
);
const config = await loadConfig({
  VALET_DATA_DIR: dataDir,
  VALET_CLIENT_ID: idp.clientIds[0]!,
  VALET_AUTHORITY: idp.authority,
  VALET_GRAPH_URL: graph.url,
  VALET_BROKER: 'off',
  VALET_PORT: '0',
});
const core = await ValetCore.create({ config });
let approval: Promise<void> = Promise.resolve();
await core.auth.signIn({
  method: 'device-code',
  scopes: ['User.Read'],
  onDeviceCode: (p) => (approval = idp.approveDeviceCode(p.userCode, adele.username)),
});
await approval;
const { secret } = await core.createKey({
  name: 'bench',
  tools: ['get_user_details'],
  readOnly: true,
  account: null,
});

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
  createServer: (resolve) => createMcpServer(core.tools, plain, resolve),
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
        actor: { keyId: 'k', keyName: 'bench', account: adele.username },
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
await graph.close();
await idp.close();
