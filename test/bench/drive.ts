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

type Session = Awaited<ReturnType<typeof openSessions>>[number];

/** `calls` calls spread over open sessions; latencies in ms go to `latencies`; returns the wall time. */
async function callOn(sessions: Session[], calls: number, latencies: number[]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    sessions.map(async ({ client }, i) => {
      for (let c = i; c < calls; c += sessions.length) {
        const t = performance.now();
        const r = await client.callTool({ name: 'get_user_details', arguments: {} });
        latencies.push(performance.now() - t);
        if (r.isError) throw new Error(JSON.stringify(r.content));
      }
    }),
  );
  return performance.now() - started;
}

async function closeSessions(sessions: Session[]): Promise<void> {
  await Promise.all(
    sessions.map(
      async ({ client, transport }) => (await transport.terminateSession(), await client.close()),
    ),
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
  const elapsed = await callOn(sessions, calls, latencies);
  await closeSessions(sessions);
  return elapsed;
}

/** Opens and closes `count` sessions of `concurrency` at a time, each with one call, as clients that come and go. */
export async function churn(target: Target, concurrency: number, count: number): Promise<void> {
  for (let done = 0; done < count; done += concurrency)
    await drive(target, concurrency, concurrency);
}

/**
 * Two targets measured alike: at concurrency 1 call by call in turn, one session each; at
 * higher concurrency in alternating rounds over sessions each opened once, as clients keep
 * theirs (what opening sessions costs is measured apart). Either way machine noise falls on both.
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
  const sa = await openSessions(a, concurrency);
  const sb = await openSessions(b, concurrency);
  // At concurrency 1, call by call; above, in rounds. Who goes first alternates.
  const per = concurrency === 1 ? 1 : calls / rounds;
  for (let i = 0; i < calls / per; i++) {
    if (i % 2) {
      tb += await callOn(sb, per, lb);
      ta += await callOn(sa, per, la);
    } else {
      ta += await callOn(sa, per, la);
      tb += await callOn(sb, per, lb);
    }
  }
  await closeSessions(sa);
  await closeSessions(sb);
  return { a: stats(la, ta), b: stats(lb, tb), calls: la.length };
}
