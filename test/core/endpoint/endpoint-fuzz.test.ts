import { randomInt } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, onTestFailed } from 'vitest';
import { verifyAudit } from '../../../main/core/audit/audit-reader.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { connectClient, useValet } from '../../support/valet.ts';
import { fuzzCase, type FuzzCase } from './fuzz-cases.ts';
import { openRawSession } from './raw-http.ts';

const [adele] = DEMO_USERS as [IdpUser];
/** Cases in a run: 2,000 in CI; set VALET_FUZZ_CASES for a longer one. */
const CASES = Number(process.env.VALET_FUZZ_CASES ?? 2_000);
/** The run's seed: random unless VALET_FUZZ_SEED replays a run; printed when a case fails. */
const SEED = Number(process.env.VALET_FUZZ_SEED ?? randomInt(2 ** 31));
/** Requests in flight at once. */
const CONCURRENCY = 8;
/** Every request must be answered, or its connection closed, within this. */
const BOUND_MS = 10_000;
/** Sessions of the pooled key that cases use. */
const POOL = 6;

const fx = useValet(adele, {
  configFile: {
    policy: {
      rateLimits: {
        requestsPerMinute: 100_000,
        burst: 10_000,
        concurrentPerKey: 64,
        concurrentTotal: 256,
      },
    },
  },
});

type Outcome = { status: number } | { closed: string };

/** The endpoint's answer to one request, or how its connection ended; rejects on a hang. */
function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // Framed by Content-Length: for GET, DELETE and OPTIONS, Node's client would otherwise send
    // a body with no framing at all, which is the client's error, not the endpoint's.
    const framed = body ? { ...headers, 'content-length': String(body.length) } : headers;
    const req = request({
      host: '127.0.0.1',
      port: url.port,
      method,
      path: '/mcp',
      headers: framed,
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${BOUND_MS} ms`));
    }, BOUND_MS);
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      // A GET's event stream stays open by design: its answer is its status line.
      if (method === 'GET' && status === 200) {
        res.destroy();
        done({ status });
        return;
      }
      res.resume();
      res.on('end', () => done({ status }));
      res.on('error', () => done({ status }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ closed: err.code ?? err.message }));
    req.end(body);
  });
}

/** Sends the headers and the first `bytes` of the body, then hangs up or half-closes. */
function partialExchange(
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  bytes: number,
  then: 'destroy' | 'end',
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open ${BOUND_MS} ms after the client stopped`));
    }, BOUND_MS);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
      resolve(status ? { status: Number(status) } : { closed: 'closed' });
    });
    const head = Object.entries({ ...headers, 'content-length': String(body.length) })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`POST /mcp HTTP/1.1\r\n${head}\r\n`);
    socket.write(body.subarray(0, bytes), () => {
      if (then === 'destroy') {
        setTimeout(() => socket.destroy(), 5);
        clearTimeout(timer);
        resolve({ closed: 'client hung up' });
      } else socket.end();
    });
  });
}

describe('JSON-RPC fuzzer against the real endpoint', () => {
  it(
    `answers ${CASES} mutated requests with no 5xx and no hang, keeps memory bounded, and leaves an audit log that verifies`,
    async () => {
      const failures: string[] = [];
      onTestFailed(() => {
        console.error(
          `Fuzzer failed: replay with VALET_FUZZ_SEED=${SEED} VALET_FUZZ_CASES=${CASES}\n${failures.slice(0, 20).join('\n')}`,
        );
      });
      const url = new URL(fx.valet.endpoint.url);
      // Write calls wait for the user, who denies each after a moment (so that calls overlap).
      fx.valet.core.approvals.on('approval-requested', (a) => {
        setTimeout(() => {
          try {
            fx.valet.core.approvals.decide(a.id, { kind: 'deny' });
          } catch {
            // Ended already: its client hung up, or its session closed.
          }
        }, 100);
      });
      const pooled = await fx.valet.createKey({ name: 'fuzz-pool' });
      const fresh = await fx.valet.createKey({ name: 'fuzz-fresh' });
      const other = await fx.valet.createKey({ name: 'fuzz-other' });
      const otherSession = await openRawSession(url.href, other.secret);
      const pool: Array<Promise<string>> = Array.from({ length: POOL }, () =>
        openRawSession(url.href, pooled.secret),
      );

      /** The headers of a case, with its credential and session. */
      async function headersOf(c: FuzzCase, slot: number): Promise<Record<string, string>> {
        const headers: Record<string, string> = { host: url.host, ...c.headers };
        const secret = c.session === 'none' ? fresh.secret : pooled.secret;
        if (c.auth === 'key') headers.authorization = `Bearer ${secret}`;
        if (c.auth === 'wrong-secret')
          headers.authorization = `Bearer ${secret.slice(0, 17)}${'A'.repeat(43)}`;
        if (c.auth === 'garbage') headers.authorization = 'Bearer \u00ff\u00fe';
        if (c.session === 'pool') headers['mcp-session-id'] = await pool[slot]!;
        if (c.session === 'bogus') headers['mcp-session-id'] = 'not-a-session';
        if (c.session === 'other-key') headers['mcp-session-id'] = otherSession;
        return headers;
      }

      async function runCase(index: number): Promise<void> {
        const c = fuzzCase(SEED, index);
        const slot = index % POOL;
        const label = `case ${index} (${c.method} ${c.what}, session ${c.session}, auth ${c.auth}${c.partial ? `, partial ${c.partial.then}` : ''}${c.twice ? ', sent twice' : ''})`;
        const headers = await headersOf(c, slot);
        const sends = c.partial
          ? [partialExchange(url, headers, c.body!, c.partial.bytes, c.partial.then)]
          : Array.from({ length: c.twice ? 2 : 1 }, () => exchange(url, c.method, headers, c.body));
        const outcomes = await Promise.all(
          sends.map((s) =>
            s.catch((err: Error) => {
              failures.push(`${label}: ${err.message}`);
              return { closed: 'hang' } as Outcome;
            }),
          ),
        );
        for (const outcome of outcomes) {
          if ('status' in outcome) {
            if (outcome.status >= 500) failures.push(`${label}: HTTP ${outcome.status}`);
            // The pooled session ended (a DELETE, or the key's session cap): open another.
            if (outcome.status === 404 && c.session === 'pool' && c.auth === 'key')
              pool[slot] = openRawSession(url.href, pooled.secret);
          } else if (
            outcome.closed !== 'hang' &&
            !c.partial &&
            (c.body?.length ?? 0) <= 1024 * 1024
          ) {
            failures.push(`${label}: connection closed with no answer (${outcome.closed})`);
          }
        }
      }

      // Live memory (heap and buffers) is measured after a full collection: garbage does not count.
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const liveMemory = () => {
        gc();
        const { heapUsed, external } = process.memoryUsage();
        return heapUsed + external;
      };
      let peakRss = 0;
      /** Runs cases [from, to) with CONCURRENCY at once. */
      async function runCases(from: number, to: number): Promise<void> {
        let next = from;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < to) {
              const index = next++;
              await runCase(index);
              if (index % 50 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
            }
          }),
        );
      }
      /** Lets background work (audit records, closing sockets) finish before measuring. */
      const settle = () => new Promise((r) => setTimeout(r, 1_500));
      // A quiet baseline after a warm-up, so that nothing in flight is counted as kept.
      const warmUp = Math.min(200, Math.floor(CASES / 10));
      await runCases(0, warmUp);
      await settle();
      const warmLive = liveMemory();
      await runCases(warmUp, CASES);

      expect(failures, `VALET_FUZZ_SEED=${SEED}`).toEqual([]);
      // Still serving, correctly.
      const { client, transport } = await connectClient(url.href, pooled.secret, 'after-fuzz');
      await expect(
        client.callTool({ name: 'get_user_details', arguments: {} }),
      ).resolves.toMatchObject({ structuredContent: { userPrincipalName: adele.username } });
      await transport.terminateSession();
      await client.close();
      // Bounded memory. Sessions stay within each key's cap. What is still alive after a full
      // collection does not grow with the cases: 24 MB is what keeping 12 KB a case would cost
      // (a session is some 17 KB); runs measure under 4 MB. RSS, sampled every 50 cases, stays
      // under 1 GiB: this process (IdP, Graph stand-in, core and fuzzer) levels off near 600 MB
      // however long it runs, as V8 sizes its heap for the garbage of multi-megabyte bodies,
      // while buffering what the endpoint should refuse would run to gigabytes.
      expect(fx.valet.endpoint.sessionCount).toBeLessThanOrEqual(3 * 32);
      // Refusals are written in the background (and may be grouped per second): let them land.
      await settle();
      const MB = 1024 * 1024;
      // The least of a few looks: on a loaded machine a look can still catch the last sockets
      // and records on their way out, which are not kept; what is kept shows in every look.
      let kept = Infinity;
      for (let look = 0; look < 3; look++) {
        kept = Math.min(kept, liveMemory() - warmLive);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(kept / MB, `VALET_FUZZ_SEED=${SEED}`).toBeLessThan(24);
      expect(peakRss / MB, `VALET_FUZZ_SEED=${SEED}`).toBeLessThan(1024);
      expect(await verifyAudit(fx.valet.core.audit.dir)).toMatchObject({ ok: true });
    },
    Math.max(120_000, CASES * 10),
  );
});
