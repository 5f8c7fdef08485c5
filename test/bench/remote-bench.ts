// Benchmark child: the remote server's tool call on one instance (memory store) against the local
// endpoint (`mcp-valet serve --json`), in the same run, all on 127.0.0.1 with the demo IdP and
// the Graph stand-in. For valet mode (a token from the SDK client's own OAuth, consent in
// Chromium) and entra mode (an Entra token for the API; JWKS and on-behalf-of caches warm):
// get_user_details call by call, interleaved with the local endpoint's; what a real client sends
// per call; and the token check's own cost, measured inside the instance. Started by run.ts with
// NODE_EXTRA_CA_CERTS trusting the IdP's CA. Prints one JSON line of results.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { JWT_BEARER_GRANT } from '../../main/demo/idp/index.ts';
import { compare, drive, type Target } from './drive.ts';
import { startLineProcess, type LineProcess } from './line-process.ts';
import { startRemoteBenchTenant } from './remote-tenant.ts';
import { entraToken, valetToken } from './remote-tokens.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'main/cli/bin.ts');
/** Calls timed per mode on each side, one at a time, remote and local in turn. */
const CALLS = 1500;
/** Untimed calls first on each side: JIT, the /me cache, the token caches. */
const WARM = 200;
/** Token checks timed per mode, inside the instance. */
const CHECKS = 2000;
/** Calls whose HTTP requests are counted, after the client connected. */
const COUNTED = 5;

type Mode = 'valet' | 'entra';
type Check = { p50: number; p99: number; times: number } | { error: string };

/** The HTTP requests a real SDK client sends to `target`: to connect, and per tool call. */
async function requestsOf(target: Target) {
  const sent: string[] = [];
  const counting: typeof fetch = async (input, init) => {
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    const methods = [body]
      .flat()
      .map((m) => (m as { method?: string } | undefined)?.method ?? '(none)');
    sent.push(`${init?.method ?? 'GET'} ${methods.join('+')}`);
    return fetch(input, init);
  };
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(target.url), {
      requestInit: { headers: { Authorization: `Bearer ${target.secret}` } },
      fetch: counting,
    }),
  );
  const connect = sent.splice(0);
  for (let i = 0; i < COUNTED; i++)
    await client.callTool({ name: 'get_user_details', arguments: {} });
  const perCall = sent.splice(0);
  await client.close();
  return { connect, perCall: perCall.length / COUNTED, sample: perCall.slice(0, 2) };
}

const tenant = await startRemoteBenchTenant();
const { idp, graph } = tenant.environment;
const local = await startLineProcess([bin, 'serve', '--json'], tenant.local.env, { drain: true });
const localTarget: Target = { url: local.url, secret: tenant.local.secret };

/** Starts the instance in `mode`, gets its token, and measures it against the local endpoint. */
async function measure(mode: Mode) {
  // BENCH_REMOTE_FLAGS: Node flags for the instance, e.g. `--cpu-prof`.
  const flags = (process.env.BENCH_REMOTE_FLAGS ?? '').split(' ').filter(Boolean);
  const instance: LineProcess = await startLineProcess(
    [...flags, join(root, 'test/bench/remote-instance.ts')],
    tenant.remoteEnv(mode),
  );
  try {
    const token =
      mode === 'valet'
        ? await valetToken(instance.url, tenant.user)
        : await entraToken(idp, tenant.user);
    const remote: Target = { url: instance.url, secret: token };
    await drive(remote, 1, WARM);
    await drive(localTarget, 1, WARM);
    const obo = () => idp.tokenRequests.filter((r) => r.grantType === JWT_BEARER_GRANT).length;
    const me = () => graph.requests.filter((r) => r.path === '/v1.0/me').length;
    const before = { obo: obo(), me: me() };
    const run = await compare(remote, localTarget, 1, CALLS);
    const during = { oboRequests: obo() - before.obo, graphMeRequests: me() - before.me };
    // Entra mode also times a token seen for the first time: the RSA check in full.
    const tokenChecks = [];
    for (const check of mode === 'valet' ? ['valet'] : ['entra', 'entra-first']) {
      const timed = await instance.ask<Check>({ check, token, times: CHECKS });
      if ('error' in timed) throw new Error(`${check} token check: ${timed.error}`);
      tokenChecks.push({ check, ...timed });
    }
    return {
      remote: run.a,
      local: run.b,
      calls: run.calls,
      during,
      tokenChecks,
      requests: await requestsOf(remote),
    };
  } finally {
    await instance.stop();
  }
}

try {
  const valet = await measure('valet');
  const entra = await measure('entra');
  process.stdout.write(
    `${JSON.stringify({ calls: CALLS, warm: WARM, checks: CHECKS, valet, entra, localRequests: await requestsOf(localTarget) })}\n`,
  );
} finally {
  await local.stop();
  await tenant.close();
}
