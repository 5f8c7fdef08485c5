// Benchmark child: MCP Valet's authenticated endpoint (`mcp-valet serve --json`, built) against
// a bare SDK server with the same trivial tool, in one run: memory at idle and after 20,000
// calls, latency call by call, and throughput at concurrency 32. Started by run.ts with
// NODE_EXTRA_CA_CERTS trusting the IdP's CA. Prints one JSON line of results.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchTenant } from './bench-tenant.ts';
import { churn, compare, drive } from './drive.ts';
import { connectInspector, type Inspector } from './inspector-client.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
interface Server {
  proc: ChildProcess;
  url: string;
  readyMs: number;
  inspector: Inspector;
  secret?: string;
}

/**
 * Starts a server process (with Node flags from BENCH_NODE_FLAGS for both, BENCH_VALET_FLAGS or
 * BENCH_BARE_FLAGS for one, e.g. `--cpu-prof`) with the inspector on a loopback port (so the benchmark can collect
 * its garbage before measuring memory) and waits for its `ready` line.
 */
async function startServer(
  args: string[],
  env: NodeJS.ProcessEnv,
  flags: string | undefined,
): Promise<Server> {
  const started = performance.now();
  const proc = spawn(
    process.execPath,
    [
      '--inspect=127.0.0.1:0',
      ...`${process.env.BENCH_NODE_FLAGS ?? ''} ${flags ?? ''}`.split(' ').filter(Boolean),
      ...args,
    ],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const inspectorUrl = new Promise<string>((resolve) => {
    let err = '';
    const onData = (c: string) => {
      err += c;
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(err);
      if (!m?.[1]) return;
      proc.stderr!.off('data', onData);
      proc.stderr!.resume();
      resolve(m[1]);
    };
    proc.stderr!.setEncoding('utf8').on('data', onData);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (c: string) => {
      out += c;
      const line = out.split('\n').find((l) => l.includes('"ready"'));
      if (!line) return;
      // Stop buffering: the live tool_call events that follow are not the benchmark's to parse.
      proc.stdout!.off('data', onData);
      proc.stdout!.resume();
      resolve(String(JSON.parse(line).url));
    };
    proc.stdout!.setEncoding('utf8').on('data', onData);
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  const readyMs = performance.now() - started;
  return { proc, url, readyMs, inspector: await connectInspector(await inspectorUrl) };
}

/** Resident memory as the system sees it, in MB. */
async function rssMb(server: Server): Promise<number> {
  const status = await readFile(`/proc/${server.proc.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** CPU time the process has used so far, in user and system mode, in ms. */
async function cpuMs(server: Server): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${server.proc.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  // utime and stime, in clock ticks (100 a second on Linux).
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

/** Runs `phase` and returns its result with the CPU each server used per call meanwhile, in µs. */
async function withCpu<T extends { calls: number }>(phase: () => Promise<T>) {
  const before = { valet: await cpuMs(valet), bare: await cpuMs(bare) };
  const result = await phase();
  const per = async (server: Server, from: { user: number; system: number }) => {
    const now = await cpuMs(server);
    const user = ((now.user - from.user) * 1000) / result.calls;
    const system = ((now.system - from.system) * 1000) / result.calls;
    return { total: user + system, user, system };
  };
  return {
    ...result,
    cpuUsPerCall: { valet: await per(valet, before.valet), bare: await per(bare, before.bare) },
  };
}

/** RSS as it is, then RSS and the live heap after a full collection. */
async function memory(server: Server): Promise<{ rssMb: number; gcRssMb: number; heapMb: number }> {
  const rss = await rssMb(server);
  await server.inspector.collectGarbage();
  return { rssMb: rss, gcRssMb: await rssMb(server), heapMb: await server.inspector.heapUsedMb() };
}

const tenant = await startBenchTenant('endpoint');
const { env, secret, graph } = tenant;
// The serve process takes the audit log; this one only prepared the data dir.
await tenant.core.close();

const valet = {
  ...(await startServer(
    [join(root, 'dist/main/cli/bin.js'), 'serve', '--json'],
    env,
    process.env.BENCH_VALET_FLAGS,
  )),
  secret,
};
const bare = await startServer(
  [join(root, 'test/bench/bare-server.ts')],
  process.env,
  process.env.BENCH_BARE_FLAGS,
);
/** Calls each server has had in all when memory is measured. */
const TOTAL_CALLS = 20_000;
/** Sessions opened and closed (with one call each) to measure what a session costs. */
const SESSIONS = 640;
/** Calls whose allocations are sampled, after the memory is measured. */
const ALLOCATION_CALLS = 2000;
try {
  // Idle: ready, no call yet, nothing collected by force.
  await new Promise((r) => setTimeout(r, 500));
  const idle = { valet: await rssMb(valet), bare: await rssMb(bare) };
  // Warm both (JIT, the /me cache, the token memo, the sessions' working set).
  const warm = 2000;
  await drive(valet, 32, warm);
  await drive(bare, 32, warm);
  const c1 = await withCpu(() => compare(valet, bare, 1, 4000));
  const c32 = await withCpu(() => compare(valet, bare, 32, 6400));
  // Clients that come and go: a session opened, one call, the session closed.
  const sessions = await withCpu(async () => {
    await churn(valet, 32, SESSIONS);
    await churn(bare, 32, SESSIONS);
    return { calls: SESSIONS };
  });
  const rest = TOTAL_CALLS - warm - c1.calls - c32.calls - SESSIONS;
  await drive(valet, 8, rest);
  await drive(bare, 8, rest);
  const after = { valet: await memory(valet), bare: await memory(bare) };
  // Allocation per call, sampled at concurrency 8 (the sampling slows both alike).
  const allocation = async (server: Server) => {
    await server.inspector.startAllocationSampling();
    await drive(server, 8, ALLOCATION_CALLS);
    const sample = await server.inspector.stopAllocationSampling();
    return { kbPerCall: sample.bytes / 1024 / ALLOCATION_CALLS, top: sample.top };
  };
  const allocated = { valet: await allocation(valet), bare: await allocation(bare) };
  process.stdout.write(
    `${JSON.stringify({
      readyMs: valet.readyMs,
      calls: TOTAL_CALLS,
      idle,
      after,
      allocated,
      c1: { valet: c1.a, bare: c1.b, calls: c1.calls, cpuUsPerCall: c1.cpuUsPerCall },
      c32: { valet: c32.a, bare: c32.b, calls: c32.calls, cpuUsPerCall: c32.cpuUsPerCall },
      session: { count: SESSIONS, cpuUsPerSession: sessions.cpuUsPerCall },
      graphMeRequests: graph.requests.filter((r) => r.path === '/v1.0/me').length,
    })}\n`,
  );
} finally {
  for (const s of [valet, bare]) {
    s.inspector.close();
    s.proc.kill('SIGTERM');
  }
  await tenant.close();
}
