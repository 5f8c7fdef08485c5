// Benchmark child: the team server scaled out over Redis, all on 127.0.0.1 with the demo IdP
// and the Graph stand-in, every instance a process of its own behind the benchmark's balancer
// (a new upstream connection per request). In one run: get_user_details on an instance over
// Redis against one over the memory store, call by call in turn; two instances in turn against
// one at concurrency 16; and the p99 of a load over two instances while one is killed, against
// the same load with both alive. Started by run.ts with the demo CA in BENCH_CA_*. Prints one
// JSON line of results.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, startRedisServer } from '../support/redis-server.ts';
import { startBenchProxy } from './bench-proxy.ts';
import { compare, drive, type Target } from './drive.ts';
import { startLineProcess, type LineProcess } from './line-process.ts';
import { startRemoteBenchTenant } from './remote-tenant.ts';
import { valetToken } from './remote-tokens.ts';
import { percentile } from './stats.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Calls timed per side, call by call, for the store's cost. */
const STORE_CALLS = 1500;
/** Calls per side at concurrency 16, in alternating rounds, for throughput. */
const SCALE_CALLS = 4000;
const CONCURRENCY = 16;
/** Calls of the run during which one instance is killed, and when (after this many). */
const KILL_CALLS = 3000;
const KILL_AFTER = 1000;
const WARM = 200;

const tenant = await startRemoteBenchTenant();
const redis = await startRedisServer();
const publicPort = Number(new URL(tenant.publicUrl).port);
const proxy = await startBenchProxy(publicPort);
const mcpUrl = `${tenant.publicUrl}/mcp`;
const cacheKey = randomBytes(32).toString('base64');
const dirs: string[] = [];
const running: LineProcess[] = [];

/** An instance of the team server on a port of its own, over Redis or its own memory. */
async function instance(store: 'redis' | 'memory'): Promise<{ port: number; proc: LineProcess }> {
  const port = await freePort();
  const base = tenant.remoteEnv('valet');
  const dir = await mkdtemp(join(tmpdir(), 'valet-bench-scale-'));
  dirs.push(dir);
  // The tenant's settings (rate limits high enough for the load), in this instance's data dir.
  await copyFile(join(base.VALET_DATA_DIR ?? '', 'config.json'), join(dir, 'config.json'));
  const proc = await startLineProcess([join(root, 'test/bench/remote-instance.ts')], {
    ...base,
    VALET_DATA_DIR: dir,
    VALET_LISTEN: `127.0.0.1:${port}`,
    VALET_CACHE_KEY: cacheKey,
    ...(store === 'redis' ? { VALET_REDIS_URL: redis.url } : {}),
  });
  running.push(proc);
  return { port, proc };
}

/** A valet token for the user, its OAuth and sign-in served by the instance on `port`. */
async function tokenVia(port: number): Promise<string> {
  proxy.setDefault(port);
  return valetToken(mcpUrl, tenant.user);
}

/** `calls` calls over `concurrency` sessions, each call's failure counted rather than fatal. */
async function tolerantLoad(target: Target, calls: number, onCall: (done: number) => void) {
  const latencies: number[] = [];
  let failed = 0;
  let done = 0;
  const sessions = await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const client = new Client({ name: 'bench', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(target.url), {
          requestInit: { headers: { Authorization: `Bearer ${target.secret}` } },
        }),
      );
      return client;
    }),
  );
  await Promise.all(
    sessions.map(async (client, i) => {
      for (let c = i; c < calls; c += sessions.length) {
        const t = performance.now();
        try {
          const r = await client.callTool({ name: 'get_user_details', arguments: {} });
          if (r.isError) failed++;
          else latencies.push(performance.now() - t);
        } catch {
          failed++;
        }
        onCall(++done);
      }
    }),
  );
  await Promise.all(sessions.map((c) => c.close().catch(() => undefined)));
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed, calls };
}

try {
  // 1. The store's cost: one instance over Redis against one over memory, call by call in turn.
  const memory = await instance('memory');
  const a = await instance('redis');
  const memoryToken = await tokenVia(memory.port);
  const aToken = await tokenVia(a.port);
  proxy.route(memoryToken, [memory.port]);
  proxy.route(aToken, [a.port]);
  const onMemory: Target = { url: mcpUrl, secret: memoryToken };
  const onRedis: Target = { url: mcpUrl, secret: aToken };
  await drive(onRedis, 1, WARM);
  await drive(onMemory, 1, WARM);
  const store = await compare(onRedis, onMemory, 1, STORE_CALLS);
  await memory.proc.stop();

  // 2. Two instances in turn against one, at concurrency 16: a second token of the same user
  // goes to A alone, the first to A and B in turn (both read the one Redis).
  const b = await instance('redis');
  const aloneToken = await tokenVia(a.port);
  proxy.route(aToken, [a.port, b.port]);
  proxy.route(aloneToken, [a.port]);
  const both: Target = { url: mcpUrl, secret: aToken };
  const alone: Target = { url: mcpUrl, secret: aloneToken };
  await drive(both, CONCURRENCY, WARM * 2);
  await drive(alone, CONCURRENCY, WARM * 2);
  const scale = await compare(both, alone, CONCURRENCY, SCALE_CALLS);

  // 3. The same load over both while B is killed part way, against the load with both alive.
  const steady = await tolerantLoad(both, KILL_CALLS, () => undefined);
  let killedAt = 0;
  const killed = await tolerantLoad(both, KILL_CALLS, (done) => {
    if (done === KILL_AFTER) {
      killedAt = done;
      b.proc.proc.kill('SIGKILL');
    }
  });

  process.stdout.write(
    `${JSON.stringify({
      storeCalls: STORE_CALLS,
      store: { redis: store.a, memory: store.b },
      scaleCalls: SCALE_CALLS,
      concurrency: CONCURRENCY,
      scale: { two: scale.a, one: scale.b },
      kill: { calls: KILL_CALLS, killedAfter: killedAt, steady, killed },
    })}\n`,
  );
} finally {
  for (const proc of running) await proc.stop().catch(() => undefined);
  await proxy.close();
  await redis.close();
  await tenant.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}
