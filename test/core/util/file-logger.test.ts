import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  diagnosticLine,
  diagnosticsLogPath,
  openFileLogger,
  type FileLogger,
} from '../../../main/core/util/file-logger.ts';
import type { Logger } from '../../../main/core/util/logger.ts';

const posix = process.platform !== 'win32';
const dirs: string[] = [];
const loggers: FileLogger[] = [];

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'valet-diag-'));
  dirs.push(dir);
  return dir;
}

function open(options: Parameters<typeof openFileLogger>[0]): FileLogger {
  const logger = openFileLogger(options);
  loggers.push(logger);
  return logger;
}

/** A logger that keeps what it is told, as the echo to stderr would print it. */
function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return {
    lines,
    debug: keep('debug'),
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
  };
}

afterEach(async () => {
  for (const logger of loggers.splice(0)) logger.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('the diagnostics log', () => {
  it('writes one line per message, with its time and level, to logs/diagnostics.log in the data dir', async () => {
    const dir = await dataDir();
    const log = open({ dataDir: dir, now: () => new Date('2026-11-29T10:00:00.000Z') });
    log.info('endpoint listening on http://127.0.0.1:47652/mcp');
    log.debug('not at info');
    log.error('the endpoint did not start: port taken');
    expect(log.path).toBe(diagnosticsLogPath(dir));
    expect(log.path).toBe(join(dir, 'logs', 'diagnostics.log'));
    expect(readFileSync(log.path, 'utf8')).toBe(
      '2026-11-29T10:00:00.000Z info endpoint listening on http://127.0.0.1:47652/mcp\n' +
        '2026-11-29T10:00:00.000Z error the endpoint did not start: port taken\n',
    );
    expect(await log.recent(1)).toEqual([
      '2026-11-29T10:00:00.000Z error the endpoint did not start: port taken',
    ]);
  });

  it('writes debug lines when VALET_LOG_LEVEL asks for them, and echoes every line', async () => {
    const echo = recorder();
    const log = open({ dataDir: await dataDir(), level: 'debug', echo });
    log.debug('msal: acquireTokenSilent');
    expect(readFileSync(log.path, 'utf8')).toMatch(/ debug msal: acquireTokenSilent\n$/);
    expect(echo.lines).toEqual(['debug: msal: acquireTokenSilent']);
  });

  it.runIf(posix)(
    'is for its owner only, and narrows a file someone left readable to others',
    async () => {
      const dir = await dataDir();
      mkdirSync(join(dir, 'logs'), { mode: 0o755 });
      chmodSync(join(dir, 'logs'), 0o755);
      writeFileSync(join(dir, 'logs', 'diagnostics.log'), 'old line\n', { mode: 0o644 });
      chmodSync(join(dir, 'logs', 'diagnostics.log'), 0o644);
      const log = open({ dataDir: dir });
      log.warn('something');
      expect(statSync(log.path).mode & 0o777).toBe(0o600);
      expect(readFileSync(log.path, 'utf8')).toMatch(/^old line\n.* warn something\n$/);

      const fresh = await dataDir();
      const other = open({ dataDir: fresh });
      other.info('first');
      expect(statSync(join(fresh, 'logs')).mode & 0o777).toBe(0o700);
      expect(statSync(other.path).mode & 0o777).toBe(0o600);
    },
  );

  it('rotates at its size, keeping the newest lines and only as many old files as asked', async () => {
    const dir = await dataDir();
    const log = open({ dataDir: dir, maxBytes: 400, keep: 2 });
    for (let i = 0; i < 60; i++) log.info(`line ${String(i).padStart(2, '0')}`);
    const files = readdirSync(join(dir, 'logs')).sort();
    expect(files).toEqual(['diagnostics.1.log', 'diagnostics.2.log', 'diagnostics.log']);
    for (const f of files) expect(statSync(join(dir, 'logs', f)).size).toBeLessThanOrEqual(400);
    const newestFirst = ['diagnostics.log', 'diagnostics.1.log', 'diagnostics.2.log'];
    const lines = newestFirst.reverse().flatMap((f) =>
      readFileSync(join(dir, 'logs', f), 'utf8')
        .split('\n')
        .filter(Boolean),
    );
    // What is kept is a run of the newest lines, in order, ending with the last one written.
    const numbers = lines.map((l) => Number(/line (\d+)$/.exec(l)![1]));
    expect(numbers.at(-1)).toBe(59);
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
    expect(numbers[0]).toBeGreaterThan(0);
    if (posix)
      for (const f of files) expect(statSync(join(dir, 'logs', f)).mode & 0o777).toBe(0o600);
  });

  it('never writes a token, valet key, bearer credential, code or secret a message carries by mistake', async () => {
    const key = 'mvk_0123456789ab_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u';
    const jwt =
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGVsZSIsInNjcCI6Ik1haWwuUmVhZCJ9.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu';
    const messages = [
      `could not record key use of ${key}`,
      `msal: token ${jwt} cached`,
      'request failed: Authorization: Bearer opaque-access-token-value-123',
      'POST /token grant_type=refresh_token&refresh_token=0.ARoA-refresh-secret&client_id=x',
      'redirect to http://127.0.0.1:5050/?code=auth-code-secret-42&state=s',
      '{"access_token":"at-secret-value","client_secret":"cs-secret-value","expires_in":3599}',
    ];
    const log = open({ dataDir: await dataDir() });
    for (const m of messages) log.error(m);
    const text = readFileSync(log.path, 'utf8');
    for (const secret of [
      'Zm9vYmFyYmF6cXV4',
      'eyJhbGciOiJSUzI1NiJ9',
      'c2lnbmF0dXJl',
      'opaque-access-token-value-123',
      '0.ARoA-refresh-secret',
      'auth-code-secret-42',
      'at-secret-value',
      'cs-secret-value',
    ])
      expect(text).not.toContain(secret);
    // What is left still says what happened, and which key it was.
    expect(text).toContain('could not record key use of mvk_0123456789ab_[redacted]');
    expect(text).toContain('Bearer [redacted]');
    expect(text).toContain('"expires_in":3599');
    expect(text.split('\n').filter(Boolean)).toHaveLength(messages.length);
  });

  it('keeps each message on its own line, so a message cannot forge another', async () => {
    const log = open({ dataDir: await dataDir() });
    log.warn('client name "x"\n2026-11-29T10:00:00.000Z info all is well\r\u2028\u0007');
    const lines = readFileSync(log.path, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"x"\\n2026-11-29T10:00:00.000Z info all is well\\r\\u2028\\u0007');
    expect(diagnosticLine('tab\there')).toBe('tab\\there');
  });

  it('never stops the app when the file cannot be written: says so once on stderr, and resumes once it can', async () => {
    const dir = await dataDir();
    writeFileSync(join(dir, 'logs'), 'a file where the folder should be');
    const echo = recorder();
    const log = open({ dataDir: dir, echo });
    expect(() => {
      log.info('one');
      log.info('two');
    }).not.toThrow();
    const complaints = echo.lines.filter((l) =>
      l.startsWith('error: cannot write the diagnostics log'),
    );
    expect(complaints).toHaveLength(1);
    expect(complaints[0]).toContain(log.path);
    expect(echo.lines).toContain('info: two');

    await rm(join(dir, 'logs'));
    log.info('three');
    expect(readFileSync(log.path, 'utf8')).toMatch(/ info three\n$/);
  });

  it.runIf(posix)('does not write through a symlink planted in place of the log', async () => {
    const dir = await dataDir();
    const target = join(dir, 'elsewhere.txt');
    writeFileSync(target, 'precious\n');
    mkdirSync(join(dir, 'logs'), { mode: 0o700 });
    symlinkSync(target, join(dir, 'logs', 'diagnostics.log'));
    const echo = recorder();
    const log = open({ dataDir: dir, echo });
    log.error('after the link');
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(echo.lines.some((l) => l.startsWith('error: cannot write the diagnostics log'))).toBe(
      true,
    );
  });

  it('reads back only whole recent lines, and none when there is no log yet', async () => {
    const dir = await dataDir();
    const log = open({ dataDir: dir, maxBytes: 1024 * 1024 });
    expect(await log.recent()).toEqual([]);
    for (let i = 0; i < 5000; i++) log.info(`entry ${i} ${'x'.repeat(20)}`);
    const recent = await log.recent(3);
    expect(recent.map((l) => / info (entry \d+)/.exec(l)?.[1])).toEqual([
      'entry 4997',
      'entry 4998',
      'entry 4999',
    ]);
    const many = await log.recent(100_000);
    expect(many.every((l) => / info entry \d+ x{20}$/.test(l))).toBe(true);
  });
});
