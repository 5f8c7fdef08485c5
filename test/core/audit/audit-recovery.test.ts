import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../main/core/audit/audit-log.ts';
import { verifyAudit } from '../../../main/core/audit/audit-reader.ts';
import { auditRecords } from '../../support/audit-records.ts';

let dataDir: string;
let dir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'valet-audit-recovery-'));
  dir = join(dataDir, 'audit');
});

async function write(n: number): Promise<void> {
  const log = new AuditLog(dataDir);
  await log.holdExclusive();
  for (let i = 0; i < n; i++)
    await log.append({ type: 'tool_call', outcome: 'allowed', details: { i } });
  await log.close();
}

const all = () => auditRecords(dir);

const active = () => join(dir, 'audit.jsonl');

describe('a torn or damaged end of the audit log', () => {
  it('is moved into an owner-only quarantine file when a server takes the log, and the chain continues with a log_recovered record naming the cut', async () => {
    await write(5);
    const torn = '{"seq":6,"time":"2030-01-01T00:00:00.000Z","type":"tool_ca';
    await appendFile(active(), torn);
    const goodBytes = (await stat(active())).size - torn.length;

    const log = new AuditLog(dataDir);
    await log.holdExclusive();
    // Repaired at start, before any call is made.
    const recovered = (await all()).at(-1)!;
    expect(recovered).toMatchObject({
      seq: 6,
      type: 'log_recovered',
      details: { file: 'audit.jsonl', bytes: torn.length, lastGoodSeq: 5 },
    });
    const quarantine = String(recovered.details?.quarantine);
    expect(quarantine).toMatch(/^audit-torn-/);
    expect(await readFile(join(dir, quarantine), 'utf8')).toBe(torn);
    expect((await stat(join(dir, quarantine))).mode & 0o777).toBe(0o600);
    expect((await readFile(active(), 'utf8')).slice(0, goodBytes)).not.toContain('tool_ca"');

    await log.append({ type: 'tool_call', outcome: 'allowed' });
    await log.close();
    expect((await all()).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 7 });
  });

  it('is repaired by a command that writes without holding the log, before its own record', async () => {
    await write(3);
    await appendFile(active(), '{"seq":4,"ti');
    const log = new AuditLog(dataDir);
    await log.append({ type: 'sign_in', outcome: 'ok' });
    await log.close();
    expect((await all()).map((r) => [r.seq, r.type])).toEqual([
      [1, 'tool_call'],
      [2, 'tool_call'],
      [3, 'tool_call'],
      [4, 'log_recovered'],
      [5, 'sign_in'],
    ]);
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 5 });
  });

  it('cuts complete but damaged last lines (zero bytes a crash left) and keeps every good record', async () => {
    await write(4);
    const garbage = `${'\0'.repeat(300)}\n${'\0'.repeat(100)}\n`;
    await appendFile(active(), garbage);
    const log = new AuditLog(dataDir);
    await log.append({ type: 'sign_in', outcome: 'ok' });
    await log.close();
    const records = await all();
    expect(records.map((r) => r.type)).toEqual([
      'tool_call',
      'tool_call',
      'tool_call',
      'tool_call',
      'log_recovered',
      'sign_in',
    ]);
    expect(records[4]!.details).toMatchObject({
      bytes: Buffer.byteLength(garbage),
      lastGoodSeq: 4,
    });
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 6 });
  });

  it('never cuts a well-formed record that was edited: verify keeps naming the edit', async () => {
    await write(4);
    const text = await readFile(active(), 'utf8');
    const lines = text.split('\n').filter(Boolean);
    lines[3] = lines[3]!.replace('"outcome":"allowed"', '"outcome":"denied"');
    await writeFile(active(), `${lines.join('\n')}\n`);
    const log = new AuditLog(dataDir);
    await log.append({ type: 'sign_in', outcome: 'ok' });
    await log.close();
    expect((await readdir(dir)).filter((f) => f.startsWith('audit-torn-'))).toEqual([]);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      bad: { seq: 4, reason: expect.stringContaining('was edited') },
    });
  });
});

describe('a record that cannot be written', () => {
  it('rejects its append with a clear error, and the next record is numbered right after the last one written', async () => {
    await write(3);
    let full = false;
    const log = new AuditLog(dataDir, {
      // A disk that fills up in the middle of a write: half the bytes land, then ENOSPC.
      write: (fd, data, offset) => {
        if (!full) return writeSync(fd, data, offset);
        writeSync(fd, data, offset, Math.floor((data.length - offset) / 2));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC',
        });
      },
    });
    await log.holdExclusive();
    full = true;
    const failed = await Promise.allSettled([
      log.append({ type: 'tool_call', outcome: 'allowed', details: { n: 'a' } }),
      log.append({ type: 'tool_call', outcome: 'allowed', details: { n: 'b' } }),
    ]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const reason = (failed[0] as PromiseRejectedResult).reason as Error & { code: string };
    expect(reason.code).toBe('audit_failed');
    expect(reason.message).toMatch(/could not be written.*ENOSPC.*free disk space/i);
    full = false;
    await log.append({ type: 'tool_call', outcome: 'allowed', details: { n: 'c' } });
    await log.close();
    const records = await all();
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(records.at(-1)!.details).toEqual({ n: 'c' });
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 4 });
  });
});

describe('the lock of a killed process', () => {
  it('is taken over at once by the next writer, so its record is not lost', async () => {
    const entry = fileURLToPath(new URL('../../../main/core/audit/audit-log.ts', import.meta.url));
    const script = `import { AuditLog } from ${JSON.stringify(entry)};
const log = new AuditLog(${JSON.stringify(dataDir)});
await log.holdExclusive();
await log.append({ type: 'sign_in', outcome: 'ok' });
process.stdout.write('held\\n');
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
      child.on('exit', (code) => reject(new Error(`the holder exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const log = new AuditLog(dataDir);
    const started = Date.now();
    await log.append({ type: 'sign_in', outcome: 'ok', details: { after: 'kill' } });
    await log.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await all()).map((r) => r.details?.after ?? null)).toEqual([null, 'kill']);
  });
});
