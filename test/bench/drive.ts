// Load generation shared by the endpoint benchmarks: MCP SDK clients over real HTTP.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { percentile } from './stats.ts';

/** Where to send calls, with which valet key (none for a bare server). */
export interface Target {
  url: string;
  secret?: string;
}

/** p50 and p99 of a latency sample, in ms. */
export interface Latency {
  p50: number;
  p99: number;
}

/** Latency and throughput of a run at some concurrency. */
export interface Load extends Latency {
  /** Calls answered per second of wall time (sessions opened before the clock starts). */
  perSecond: number;
}

async function openSessions(target: Target, count: number) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const transport = new StreamableHTTPClientTransport(
        new URL(target.url),
        target.secret
          ? { requestInit: { headers: { Authorization: `Bearer ${target.secret}` } } }
          : {},
      );
      const client = new Client({ name: 'bench', version: '1' });
      await client.connect(transport);
      return { client, transport };
    }),
  );
}

/**
 * `calls` get_user_details calls over `concurrency` sessions opened for the run; latencies in
 * ms are added to `latencies`, and the wall time of the calls (sessions open) is returned.
 */
export async function drive(
  target: Target,
  concurrency: number,
  calls: number,
  latencies: number[] = [],
): Promise<number> {
  const sessions = await openSessions(target, concurrency);
  const started = performance.now();
  await Promise.all(
    sessions.map(async ({ client }, i) => {
      for (let c = i; c < calls; c += concurrency) {
        const t = performance.now();
        const r = await client.callTool({ name: 'get_user_details', arguments: {} });
        latencies.push(performance.now() - t);
        if (r.isError) throw new Error(JSON.stringify(r.content));
      }
    }),
  );
  const elapsed = performance.now() - started;
  await Promise.all(
    sessions.map(
      async ({ client, transport }) => (await transport.terminateSession(), await client.close()),
    ),
  );
  return elapsed;
}

/**
 * Two targets measured alike: at concurrency 1 call by call in turn, one session each; at
 * higher concurrency in alternating rounds. Either way machine noise falls on both.
 */
export async function compare(
  a: Target,
  b: Target,
  concurrency: number,
  calls: number,
  rounds = 10,
): Promise<{ a: Load; b: Load; calls: number }> {
  const la: number[] = [];
  const lb: number[] = [];
  let ta = 0;
  let tb = 0;
  const stats = (xs: number[], ms: number): Load => ({
    p50: percentile(xs, 50),
    p99: percentile(xs, 99),
    perSecond: (xs.length / ms) * 1000,
  });
  if (concurrency === 1) {
    const [sa] = await openSessions(a, 1);
    const [sb] = await openSessions(b, 1);
    const one = async (s: { client: Client }, out: number[]) => {
      const t = performance.now();
      const r = await s.client.callTool({ name: 'get_user_details', arguments: {} });
      const ms = performance.now() - t;
      out.push(ms);
      if (r.isError) throw new Error(JSON.stringify(r.content));
      return ms;
    };
    for (let i = 0; i < calls; i++) {
      // Alternate who goes first, so neither always follows the other.
      if (i % 2) {
        tb += await one(sb!, lb);
        ta += await one(sa!, la);
      } else {
        ta += await one(sa!, la);
        tb += await one(sb!, lb);
      }
    }
    for (const s of [sa!, sb!]) {
      await s.transport.terminateSession();
      await s.client.close();
    }
    return { a: stats(la, ta), b: stats(lb, tb), calls: la.length };
  }
  for (let r = 0; r < rounds; r++) {
    // Alternate who goes first here too.
    if (r % 2) {
      tb += await drive(b, concurrency, calls / rounds, lb);
      ta += await drive(a, concurrency, calls / rounds, la);
    } else {
      ta += await drive(a, concurrency, calls / rounds, la);
      tb += await drive(b, concurrency, calls / rounds, lb);
    }
  }
  return { a: stats(la, ta), b: stats(lb, tb), calls: la.length };
}
