// `npm run bench`: prints tables, the targets with a pass or fail mark, and writes
// test-results/bench.json. `npm run bench -- --runs 5` repeats the endpoint benchmark and shows
// each figure's median and spread; `--only endpoint` (or silent-token, layers, activity, remote,
// scale) runs that benchmark alone (activity: the Activity pages and chart; remote: the team
// server's tool call against the local endpoint; scale: the team server over Redis, one instance
// against two, and while one is killed).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCertificateAuthority } from '../../main/demo/idp/index.ts';
import { startKeyring } from '../support/keyring.ts';
import { ms, printTable } from './stats.ts';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '1' }, only: { type: 'string' } },
});
const RUNS = Math.max(1, Number(args.runs) || 1);
const BENCHMARKS = ['silent-token', 'endpoint', 'layers', 'activity', 'remote', 'scale'];
if (args.only !== undefined && !BENCHMARKS.includes(args.only)) {
  console.error(`--only takes one of ${BENCHMARKS.join(', ')} (got '${args.only}')`);
  process.exit(2);
}
/** Whether this run includes benchmark `name`. */
const want = (name: string) => args.only === undefined || args.only === name;

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

const results: Record<string, unknown> = {
  at: new Date().toISOString(),
  node: process.version,
  cpus: (await import('node:os')).cpus().length,
  load: (await import('node:os')).loadavg(),
};
const keyring = want('silent-token') ? await startKeyring() : undefined;
if (keyring)
  try {
    const silent = (await child('silent-token.ts', {
      ...process.env,
      ...caEnv,
      ...keyring.env,
    })) as {
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

type Lat = { p50: number; p99: number };
type Load = Lat & { perSecond: number };
type Cpu = { total: number; user: number; system: number };
type Mem = { rssMb: number; gcRssMb: number; heapMb: number };
type EndpointRun = {
  readyMs: number;
  calls: number;
  idle: { valet: number; bare: number };
  after: { valet: Mem; bare: Mem };
  allocated: Record<
    'valet' | 'bare',
    { kbPerCall: number; top: Array<{ frame: string; bytes: number }> }
  >;
  c1: { valet: Load; bare: Load; calls: number; cpuUsPerCall: Record<'valet' | 'bare', Cpu> };
  c32: { valet: Load; bare: Load; calls: number; cpuUsPerCall: Record<'valet' | 'bare', Cpu> };
  session: { count: number; cpuUsPerSession: Record<'valet' | 'bare', Cpu> };
};
type Timed = { first: number; p50: number; p99: number; runs: number };
type ActivityRun = {
  log: { bytes: number; files: number; records: number; writeSeconds: number };
  firstPage: Timed;
  nextPage: Timed;
  deepPage: Timed;
  filtered: Timed;
  fullScan: Timed;
  same: boolean;
};
type ChartRun = {
  log: { bytes: number; files: number; records: number; writeSeconds: number };
  charts: Array<Timed & { name: string; calls: number }>;
  fullScan: Timed;
};

/** The endpoint against a bare SDK server: latency, throughput, CPU and memory, with targets. */
async function endpointBenchmark(): Promise<void> {
  const runs: EndpointRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (RUNS > 1) console.log(`\nendpoint run ${i + 1} of ${RUNS}…`);
    runs.push((await child('endpoint-bench.ts', { ...process.env, ...caEnv })) as EndpointRun);
  }
  results.endpoint = runs;

  /** A figure over the runs: its median, and its spread when there are several. */
  const spread = (pick: (r: EndpointRun) => number, digits = 2) => {
    const xs = runs.map(pick).sort((a, b) => a - b);
    const med = xs[Math.floor((xs.length - 1) / 2)]!;
    const shown = med.toFixed(digits);
    return {
      med,
      text:
        xs.length > 1
          ? `${shown} (${xs[0]!.toFixed(digits)}–${xs.at(-1)!.toFixed(digits)})`
          : shown,
    };
  };
  const each = RUNS > 1 ? ' (median of runs, min–max)' : '';
  printTable(
    `get_user_details through the authenticated endpoint (/me cache warm) vs a bare SDK server, on open sessions${each}`,
    [
      'concurrency',
      'valet p50 ms',
      'bare p50 ms',
      'valet p99 ms',
      'bare p99 ms',
      'valet calls/s',
      'bare calls/s',
      'valet CPU µs/call',
      'bare CPU µs/call',
    ],
    (['c1', 'c32'] as const).map((c) => [
      c === 'c1' ? '1' : '32',
      spread((r) => r[c].valet.p50, 3).text,
      spread((r) => r[c].bare.p50, 3).text,
      spread((r) => r[c].valet.p99, 3).text,
      spread((r) => r[c].bare.p99, 3).text,
      spread((r) => r[c].valet.perSecond, 0).text,
      spread((r) => r[c].bare.perSecond, 0).text,
      spread((r) => r[c].cpuUsPerCall.valet.total, 0).text,
      spread((r) => r[c].cpuUsPerCall.bare.total, 0).text,
    ]),
  );
  printTable(
    `CPU (user + system) of a session opened, given one call and closed, µs${each}`,
    ['valet', 'bare'],
    [
      [
        spread((r) => r.session.cpuUsPerSession.valet.total, 0).text,
        spread((r) => r.session.cpuUsPerSession.bare.total, 0).text,
      ],
    ],
  );
  printTable(
    `Memory of mcp-valet serve and the bare SDK server, MB${each}`,
    ['measure', 'valet', 'bare'],
    [
      [
        'RSS idle (ready, no call yet)',
        spread((r) => r.idle.valet, 1).text,
        spread((r) => r.idle.bare, 1).text,
      ],
      [
        `RSS after ${runs[0]!.calls} calls`,
        spread((r) => r.after.valet.rssMb, 1).text,
        spread((r) => r.after.bare.rssMb, 1).text,
      ],
      [
        'RSS after that and a full GC',
        spread((r) => r.after.valet.gcRssMb, 1).text,
        spread((r) => r.after.bare.gcRssMb, 1).text,
      ],
      [
        'live heap after a full GC',
        spread((r) => r.after.valet.heapMb, 1).text,
        spread((r) => r.after.bare.heapMb, 1).text,
      ],
      [
        'allocated per call, KB (sampled)',
        spread((r) => r.allocated.valet.kbPerCall, 1).text,
        spread((r) => r.allocated.bare.kbPerCall, 1).text,
      ],
      ['start to ready, ms', spread((r) => r.readyMs, 0).text, ''],
    ],
  );
  const targets: Array<[string, { med: number; text: string }, string, (x: number) => boolean]> = [
    [
      'p50 ratio valet/bare, concurrency 1',
      spread((r) => r.c1.valet.p50 / r.c1.bare.p50),
      '<= 1.10',
      (x) => x <= 1.1,
    ],
    [
      'p99 ratio valet/bare, concurrency 1',
      spread((r) => r.c1.valet.p99 / r.c1.bare.p99),
      '<= 1.50',
      (x) => x <= 1.5,
    ],
    [
      `RSS after ${runs[0]!.calls} calls / idle RSS, valet`,
      spread((r) => r.after.valet.rssMb / r.idle.valet),
      '<= 1.50',
      (x) => x <= 1.5,
    ],
    [
      `RSS after ${runs[0]!.calls} calls, valet/bare`,
      spread((r) => r.after.valet.rssMb / r.after.bare.rssMb),
      '< 1.00',
      (x) => x < 1,
    ],
    [
      'calls/s at concurrency 32, valet/bare',
      spread((r) => r.c32.valet.perSecond / r.c32.bare.perSecond),
      '>= 1.00',
      (x) => x >= 1,
    ],
  ];
  printTable(
    `Targets${each}`,
    ['figure', 'value', 'target', ''],
    targets.map(([name, v, target, ok]) => [name, v.text, target, ok(v.med) ? 'pass' : 'FAIL']),
  );
  results.targets = Object.fromEntries(
    targets.map(([name, v, target, ok]) => [name, { value: v.med, target, pass: ok(v.med) }]),
  );
}

if (want('endpoint')) await endpointBenchmark();

if (want('layers')) {
  const layers = (await child('layers-bench.ts', { ...process.env, ...caEnv })) as {
    c1: { on: Lat; off: Lat };
    c32: { on: Lat; off: Lat };
    audit: { records: number; seconds: number; perSecond: number };
  };
  results.layers = layers;
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
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
    'get_user_details with policy, rate limits and durable audit on vs off, ms',
    ['concurrency', 'on p50', 'off p50', 'ratio p50', 'on p99', 'off p99', 'ratio p99'],
    [layerRow('1', layers.c1), layerRow('32', layers.c32)],
  );
  printTable(
    'Audit log throughput, durability on (appended before returning, fsync grouped)',
    ['records', 'seconds', 'records/s'],
    [[layers.audit.records, layers.audit.seconds.toFixed(2), Math.round(layers.audit.perSecond)]],
  );
}

if (want('activity')) {
  const activity = (await child('activity-bench.ts', process.env)) as ActivityRun;
  results.activity = activity;
  const row = (name: string, t: Timed) => [name, ms(t.first), ms(t.p50), ms(t.p99), t.runs];
  printTable(
    `Activity pages on a ${(activity.log.bytes / 1024 / 1024).toFixed(0)} MB audit log (${activity.log.records} records in ${activity.log.files} files, warm page cache), ms`,
    ['page', 'first', 'p50', 'p99', 'runs'],
    [
      row('first page, newest first (now)', activity.firstPage),
      row('second page, by its cursor', activity.nextPage),
      row('a page deep in the oldest file', activity.deepPage),
      row('filtered: one key, denied calls', activity.filtered),
      row('first page, full scan with hashing (before)', activity.fullScan),
    ],
  );
  const pass = activity.firstPage.first < 50 && activity.same;
  printTable(
    'Activity target',
    ['figure', 'value', 'before', 'target', ''],
    [
      [
        'first Activity page, 100 MB audit log, ms',
        ms(activity.firstPage.first),
        ms(activity.fullScan.first),
        '< 50',
        pass ? 'pass' : 'FAIL',
      ],
    ],
  );
  results.targets = {
    ...(results.targets as object),
    'first Activity page on a 100 MB audit log, ms': {
      value: activity.firstPage.first,
      before: activity.fullScan.first,
      target: '< 50',
      pass,
    },
  };

  const chart = (await child('activity-chart-bench.ts', process.env)) as ChartRun;
  results.activityChart = chart;
  printTable(
    `Activity chart on a ${(chart.log.bytes / 1024 / 1024).toFixed(0)} MB audit log spread over a year (${chart.log.records} records in ${chart.log.files} files, warm page cache), ms`,
    ['window', 'calls', 'first', 'p50', 'p99', 'runs'],
    [
      ...chart.charts.map((c) => [c.name, c.calls, ms(c.first), ms(c.p50), ms(c.p99), c.runs]),
      [
        'last hour, counted through the whole log',
        chart.charts[0]!.calls,
        ms(chart.fullScan.first),
        ms(chart.fullScan.p50),
        ms(chart.fullScan.p99),
        chart.fullScan.runs,
      ],
    ],
  );
}

type RemoteMode = {
  remote: Lat;
  local: Lat;
  calls: number;
  during: { oboRequests: number; graphMeRequests: number };
  tokenChecks: (Lat & { check: string; times: number })[];
  requests: { connect: string[]; perCall: number; sample: string[] };
};
type RemoteRun = {
  calls: number;
  checks: number;
  valet: RemoteMode;
  entra: RemoteMode;
  localRequests: { connect: string[]; perCall: number; sample: string[] };
};

/** What each timed token check does. */
const TOKEN_CHECKS: Record<string, string> = {
  valet: 'verifyAccessToken against the store',
  entra: 'the same token again (remembered by its hash)',
  'entra-first': 'a token seen first: jose jwtVerify, JWKS cached',
};

/** The team server's tool call on one instance against the local endpoint, with targets. */
async function remoteBenchmark(): Promise<void> {
  const remote = (await child('remote-bench.ts', { ...process.env, ...caEnv })) as RemoteRun;
  results.remote = remote;
  const modes = [
    ['valet', 'valet', remote.valet],
    ['entra', 'entra (JWKS, OBO warm)', remote.entra],
  ] as const;
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  printTable(
    `get_user_details through the remote endpoint (one instance, memory store) vs the local endpoint, ${remote.calls} calls each, one at a time in turn, ms`,
    ['mode', 'remote p50', 'local p50', 'ratio p50', 'remote p99', 'local p99', 'ratio p99'],
    modes.map(([, name, m]) => [
      name,
      ms(m.remote.p50),
      ms(m.local.p50),
      ratio(m.remote.p50, m.local.p50),
      ms(m.remote.p99),
      ms(m.local.p99),
      ratio(m.remote.p99, m.local.p99),
    ]),
  );
  printTable(
    `Token check per request, inside the instance (${remote.checks} checks in a row), µs`,
    ['mode', 'check', 'p50 µs', 'p99 µs'],
    modes.flatMap(([mode, , m]) =>
      m.tokenChecks.map((c) => [
        mode,
        TOKEN_CHECKS[c.check] ?? c.check,
        c.p50.toFixed(1),
        c.p99.toFixed(1),
      ]),
    ),
  );
  printTable(
    'What the SDK client sends: HTTP requests to connect and per tool call (during the timed calls: on-behalf-of and Graph /me requests)',
    ['endpoint', 'to connect', 'per call', 'a call', 'OBO', '/me'],
    [
      ...modes.map(([mode, , m]) => [
        `remote ${mode}`,
        m.requests.connect.join(', '),
        m.requests.perCall,
        m.requests.sample[0] ?? '',
        m.during.oboRequests,
        m.during.graphMeRequests,
      ]),
      [
        'local',
        remote.localRequests.connect.join(', '),
        remote.localRequests.perCall,
        remote.localRequests.sample[0] ?? '',
        '',
        '',
      ],
    ],
  );
  // Entra mode's figure is the target's only with the caches warm: no exchange while timed.
  const targets = modes.map(([mode, , m]) => {
    const value = m.remote.p50 / m.local.p50;
    const warm = mode === 'valet' || m.during.oboRequests === 0;
    return [`p50 ratio remote/local, ${mode} mode`, value, value <= 1.3 && warm] as const;
  });
  printTable(
    'Remote targets',
    ['figure', 'value', 'target', ''],
    targets.map(([name, value, pass]) => [
      name,
      value.toFixed(2),
      '<= 1.30',
      pass ? 'pass' : 'FAIL',
    ]),
  );
  results.targets = {
    ...(results.targets as object),
    ...Object.fromEntries(
      targets.map(([name, value, pass]) => [name, { value, target: '<= 1.30', pass }]),
    ),
  };
}

if (want('remote')) await remoteBenchmark();

type Loaded = { p50: number; p99: number; perSecond: number };
type ScaleRun = {
  storeCalls: number;
  store: { redis: Loaded; memory: Loaded };
  scaleCalls: number;
  concurrency: number;
  scale: { two: Loaded; one: Loaded };
  kill: {
    calls: number;
    killedAfter: number;
    steady: { p50: number; p99: number; failed: number };
    killed: { p50: number; p99: number; failed: number };
  };
};

/** The team server over Redis: the store's cost, two instances against one, one killed. */
async function scaleBenchmark(): Promise<void> {
  const run = (await child('scale-bench.ts', { ...process.env, ...caEnv })) as ScaleRun;
  results.scale = run;
  const { store, scale, kill } = run;
  printTable(
    `get_user_details on one instance over Redis vs one over the memory store, ${run.storeCalls} calls each, one at a time in turn, through the same balancer, ms`,
    ['store', 'p50', 'p99'],
    [
      ['redis', ms(store.redis.p50), ms(store.redis.p99)],
      ['memory', ms(store.memory.p50), ms(store.memory.p99)],
      [
        'redis - memory',
        ms(store.redis.p50 - store.memory.p50),
        ms(store.redis.p99 - store.memory.p99),
      ],
      [
        'redis / memory',
        (store.redis.p50 / store.memory.p50).toFixed(2),
        (store.redis.p99 / store.memory.p99).toFixed(2),
      ],
    ],
  );
  printTable(
    `Two instances over Redis in turn vs one, concurrency ${run.concurrency}, ${run.scaleCalls} calls each in alternating rounds (this machine has ${String(results.cpus)} cores for both, Redis, the balancer and the clients)`,
    ['instances', 'calls/s', 'p50 ms', 'p99 ms'],
    [
      ['two', scale.two.perSecond.toFixed(0), ms(scale.two.p50), ms(scale.two.p99)],
      ['one', scale.one.perSecond.toFixed(0), ms(scale.one.p50), ms(scale.one.p99)],
      [
        'two / one',
        (scale.two.perSecond / scale.one.perSecond).toFixed(2),
        (scale.two.p50 / scale.one.p50).toFixed(2),
        (scale.two.p99 / scale.one.p99).toFixed(2),
      ],
    ],
  );
  printTable(
    `${kill.calls} calls over two instances at concurrency ${run.concurrency}: both alive, and one killed (SIGKILL) after ${kill.killedAfter}`,
    ['run', 'p50 ms', 'p99 ms', 'failed calls'],
    [
      ['both alive', ms(kill.steady.p50), ms(kill.steady.p99), kill.steady.failed],
      ['one killed', ms(kill.killed.p50), ms(kill.killed.p99), kill.killed.failed],
      [
        'killed / alive',
        (kill.killed.p50 / kill.steady.p50).toFixed(2),
        (kill.killed.p99 / kill.steady.p99).toFixed(2),
        '',
      ],
    ],
  );
  const overhead = store.redis.p50 - store.memory.p50;
  const targets = [
    ['p50 Redis store - memory store, ms', overhead, overhead <= 0.5, '<= 0.50'],
  ] as const;
  printTable(
    'Scale-out targets',
    ['figure', 'value', 'target', ''],
    targets.map(([name, value, pass, target]) => [
      name,
      value.toFixed(2),
      target,
      pass ? 'pass' : 'FAIL',
    ]),
  );
  results.targets = {
    ...(results.targets as object),
    ...Object.fromEntries(
      targets.map(([name, value, pass, target]) => [name, { value, target, pass }]),
    ),
  };
}

if (want('scale')) await scaleBenchmark();

await mkdir(join(root, 'test-results'), { recursive: true });
await writeFile(join(root, 'test-results', 'bench.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwritten: test-results/bench.json`);
