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

type Mem = { rssMb: number; heapMb: number };
type Lat = { p50: number; p99: number };
const endpoint = (await child('endpoint-bench.ts', { ...process.env, ...caEnv })) as {
  readyMs: number;
  calls: number;
  idle: { valet: Mem; bare: Mem };
  steady: { valet: Mem; bare: Mem };
  after: { valet: Mem; bare: Mem };
  c1: { valet: Lat; bare: Lat };
  c32: { valet: Lat; bare: Lat };
};
results.endpoint = endpoint;
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const row = (name: string, r: { valet: Lat; bare: Lat }) => [
  name,
  ms(r.valet.p50),
  ms(r.bare.p50),
  ratio(r.valet.p50, r.bare.p50),
  ms(r.valet.p99),
  ms(r.bare.p99),
  ratio(r.valet.p99, r.bare.p99),
];
printTable(
  'get_user_details through the authenticated endpoint (/me cache warm) vs a bare SDK server (target: p50 ratio <= 1.15)',
  ['concurrency', 'valet p50', 'bare p50', 'ratio p50', 'valet p99', 'bare p99', 'ratio p99'],
  [row('1', endpoint.c1), row('32', endpoint.c32)],
);
const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)}%`;
const mb = (m: Mem) => `${m.rssMb.toFixed(1)} MB RSS, ${m.heapMb.toFixed(1)} MB heap`;
printTable(
  'mcp-valet serve, with a bare SDK server alongside',
  ['measure', 'valet', 'bare', 'target'],
  [
    ['start to ready', `${ms(endpoint.readyMs)} ms`, '', '< 500 ms'],
    ['idle (ready, no call yet)', mb(endpoint.idle.valet), mb(endpoint.idle.bare), 'RSS < 120 MB'],
    [
      'after a 2,000-call warm-up, full GC',
      mb(endpoint.steady.valet),
      mb(endpoint.steady.bare),
      '',
    ],
    [
      `after ${endpoint.calls} more calls, full GC`,
      mb(endpoint.after.valet),
      mb(endpoint.after.bare),
      '',
    ],
    [
      'growth over those calls',
      `${pct(endpoint.after.valet.rssMb, endpoint.steady.valet.rssMb)} RSS, ${pct(endpoint.after.valet.heapMb, endpoint.steady.valet.heapMb)} heap`,
      `${pct(endpoint.after.bare.rssMb, endpoint.steady.bare.rssMb)} RSS`,
      '< +10%',
    ],
  ],
);
const layers = (await child('layers-bench.ts', { ...process.env, ...caEnv })) as {
  c1: { on: Lat; off: Lat };
  c32: { on: Lat; off: Lat };
  audit: { records: number; seconds: number; perSecond: number };
};
results.layers = layers;
const layerRow = (name: string, r: { on: Lat; off: Lat }) => [
  name,
  ms(r.on.p50),
  ms(r.off.p50),
  ratio(r.on.p50, r.off.p50),
  ms(r.on.p99),
  ms(r.off.p99),
  ratio(r.on.p99, r.off.p99),
];
printTable(
  'get_user_details with policy, rate limits and durable audit on vs off (target: p50 ratio <= 1.10)',
  ['concurrency', 'on p50', 'off p50', 'ratio p50', 'on p99', 'off p99', 'ratio p99'],
  [layerRow('1', layers.c1), layerRow('32', layers.c32)],
);
printTable(
  'Audit log throughput, durability on (appended before returning, fsync grouped)',
  ['records', 'seconds', 'records/s'],
  [[layers.audit.records, layers.audit.seconds.toFixed(2), Math.round(layers.audit.perSecond)]],
);

await mkdir(join(root, 'test-results'), { recursive: true });
await writeFile(join(root, 'test-results', 'bench.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwritten: test-results/bench.json`);
