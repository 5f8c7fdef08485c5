// Benchmark child of remote-bench.ts: one remote server on the memory store, configured through
// the environment and config.json as `serve --remote` is. It prints its ready line, then answers
// token-check requests read from stdin, one JSON line each, with the check's cost measured here,
// against this instance's own store and keys:
//   {"check":"valet"|"entra"|"entra-first","token":"…","times":n}  →  {"p50":µs,"p99":µs,"times":n}
// It stops on SIGTERM or when stdin closes.
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import {
  EntraTokenVerifier,
  entraVerifierSettings,
} from '../../main/core/remote/entra/entra-verifier.ts';
import { entraPath } from '../../main/core/remote/mcp/front-doors.ts';
import { createValetAuthServer } from '../../main/core/remote/oauth/valet-auth-router.ts';
import { loadRemoteConfig } from '../../main/core/remote/remote-config.ts';
import { AuthorityMetadata } from '../../main/core/remote/server/authority-metadata.ts';
import { startRemoteServer } from '../../main/core/remote/server/start-remote-server.ts';
import { createStderrLogger } from '../../main/core/util/logger.ts';
import { percentile } from './stats.ts';

/** Checks timed per request, after this many untimed ones (JIT, the JWKS fetched and cached). */
const WARM_CHECKS = 200;

const env = process.env;
const logger = createStderrLogger(env.VALET_LOG_LEVEL ?? 'warn');
const config = await loadRemoteConfig(env, {
  configFile: join(env.VALET_DATA_DIR ?? '', 'config.json'),
});
const server = await startRemoteServer(config, { logger });

// The same checks the doors make, built over this instance's store and authority metadata.
const valet = createValetAuthServer({ config, store: server.store, currentUser: () => undefined });
const metadata = new AuthorityMetadata(config.authority, {
  fromFile: config.authorityMetadata,
  logger,
});
await metadata.load();
const entra = new EntraTokenVerifier(
  entraVerifierSettings(config, `${config.publicUrl}${entraPath(config.auth)}`),
  { metadata, logger },
);
// A token seen for the first time: the RSA check and the claims, with nothing remembered.
const entraFirst = new EntraTokenVerifier(
  entraVerifierSettings(config, `${config.publicUrl}${entraPath(config.auth)}`),
  { metadata, logger, remembered: 0 },
);
const verifiers: Record<string, OAuthTokenVerifier> = {
  valet: valet.provider,
  entra,
  'entra-first': entraFirst,
};

/** p50 and p99 in µs of `times` checks of `token` in a row, after the warm-up. */
async function timeChecks(verifier: OAuthTokenVerifier, token: string, times: number) {
  for (let i = 0; i < WARM_CHECKS; i++) await verifier.verifyAccessToken(token);
  const us: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await verifier.verifyAccessToken(token);
    us.push((performance.now() - started) * 1000);
  }
  return { p50: percentile(us, 50), p99: percentile(us, 99), times };
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  metadata.stop();
  await server.close();
  process.exit(0);
}
process.once('SIGTERM', () => void stop());

process.stdout.write(`${JSON.stringify({ event: 'ready', url: server.mcpUrls[0] })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('close', () => void stop());
for await (const line of lines) {
  const ask = JSON.parse(line) as { check: string; token: string; times: number };
  const verifier = verifiers[ask.check];
  const answer = verifier
    ? await timeChecks(verifier, ask.token, ask.times).catch((err: unknown) => ({
        error: err instanceof Error ? err.message : String(err),
      }))
    : { error: `no check named ${ask.check}` };
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
