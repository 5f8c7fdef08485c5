// Benchmark child: MCP Valet's authenticated endpoint (`mcp-valet serve`, built) against a bare
// SDK server with the same trivial tool, in one run. Started by run.ts with NODE_EXTRA_CA_CERTS
// trusting the IdP's CA. Prints one JSON line of results.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchTenant } from './bench-tenant.ts';
import { compare, drive } from './drive.ts';
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
 * Starts a server process with the inspector on a loopback port (so the benchmark can collect
 * its garbage before measuring memory) and waits for its `ready` line.
 */
async function startServer(args: string[], env: NodeJS.ProcessEnv): Promise<Server> {
  const started = performance.now();
  const proc = spawn(
    process.execPath,
    [
      '--inspect=127.0.0.1:0',
      ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
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

async function memory(
  server: Server,
  collect: boolean,
): Promise<{ rssMb: number; heapMb: number }> {
  if (collect) await server.inspector.collectGarbage();
  const status = await readFile(`/proc/${server.proc.pid}/status`, 'utf8');
  return {
    rssMb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024,
    heapMb: await server.inspector.heapUsedMb(),
  };
}

async function compareServers(valet: Server, bare: Server, concurrency: number, calls: number) {
  const r = await compare(valet, bare, concurrency, calls);
  return { valet: r.a, bare: r.b, calls: r.calls };
}

const tenant = await startBenchTenant('endpoint');
const { env, secret, graph } = tenant;
// The serve process takes the audit log; this one only prepared the data dir.
await tenant.core.close();

const valet = {
  ...(await startServer([join(root, 'dist/main/cli/bin.js'), 'serve', '--json'], env)),
  secret,
};
const bare = await startServer([join(root, 'test/bench/bare-server.ts')], process.env);
try {
  const idle = { valet: await memory(valet, false), bare: await memory(bare, false) };
  // Warm both to their working size (JIT, V8's heap under 32 sessions, the /me cache, the
  // token memo); growth over the 10,000 calls below is measured from here, after a full GC.
  await drive(valet, 32, 2000);
  await drive(bare, 32, 2000);
  const steady = { valet: await memory(valet, true), bare: await memory(bare, true) };
  const c1 = await compareServers(valet, bare, 1, 2000);
  const c32 = await compareServers(valet, bare, 32, 6400);
  await drive(valet, 8, 10_000 - c1.calls - c32.calls);
  await drive(bare, 8, 10_000 - c1.calls - c32.calls);
  const after = { valet: await memory(valet, true), bare: await memory(bare, true) };
  process.stdout.write(
    `${JSON.stringify({ readyMs: valet.readyMs, calls: 10_000, idle, steady, after, c1, c32, graphMeRequests: graph.requests.filter((r) => r.path === '/v1.0/me').length })}\n`,
  );
} finally {
  for (const s of [valet, bare]) {
    s.inspector.close();
    s.proc.kill('SIGTERM');
  }
  await tenant.close();
}
