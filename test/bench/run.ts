// `npm run bench`: prints a table and writes test-results/bench.json.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCertificateAuthority } from '../../main/demo/idp/index.ts';
import { startKeyring } from '../support/keyring.ts';
import { ms, printTable } from './stats.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');

/** Runs a benchmark child script and returns the JSON line it prints. */
async function child(script: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const proc = spawn(process.execPath, [join(here, script)], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  if (code !== 0) throw new Error(`${script} failed with exit code ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

const ca = await createCertificateAuthority();
const caDir = await mkdtemp(join(tmpdir(), 'valet-bench-ca-'));
await writeFile(join(caDir, 'ca.pem'), ca.certPem, { mode: 0o600 });
await writeFile(join(caDir, 'ca-key.pem'), ca.keyPem, { mode: 0o600 });
const caEnv = {
  NODE_EXTRA_CA_CERTS: join(caDir, 'ca.pem'),
  BENCH_CA_CERT: join(caDir, 'ca.pem'),
  BENCH_CA_KEY: join(caDir, 'ca-key.pem'),
};

const keyring = await startKeyring();
const results: Record<string, unknown> = {
  at: new Date().toISOString(),
  node: process.version,
  cpus: (await import('node:os')).cpus().length,
};
try {
  const silent = (await child('silent-token.ts', { ...process.env, ...caEnv, ...keyring.env })) as {
    cache: string;
    calls: number;
    valet: { p50: number; p99: number };
    msal: { p50: number; p99: number };
  };
  results.silentToken = silent;
  printTable(
    `Silent token from the cache (${silent.cache} persistence, ${silent.calls} calls)`,
    ['path', 'p50 ms', 'p99 ms'],
    [
      ['AuthService.getToken', ms(silent.valet.p50), ms(silent.valet.p99)],
      ['bare MSAL acquireTokenSilent', ms(silent.msal.p50), ms(silent.msal.p99)],
      [
        'ratio',
        (silent.valet.p50 / silent.msal.p50).toFixed(2),
        (silent.valet.p99 / silent.msal.p99).toFixed(2),
      ],
    ],
  );
} finally {
  await keyring.stop();
}
await mkdir(join(root, 'test-results'), { recursive: true });
await writeFile(join(root, 'test-results', 'bench.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwritten: test-results/bench.json`);
