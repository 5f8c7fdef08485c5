import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../main/core/audit/audit-log.ts';
import { followAudit, readAudit, verifyAudit } from '../../../main/core/audit/audit-reader.ts';

let dataDir: string;
let dir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'valet-audit-'));
  dir = join(dataDir, 'audit');
});

async function write(n: number, options = {}): Promise<AuditLog> {
  const log = new AuditLog(dataDir, options);
  await log.holdExclusive();
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      log.append({
        type: 'tool_call',
        actor: { keyName: 'k' },
        outcome: 'allowed',
        details: { i },
      }),
    ),
  );
  await log.close();
  return log;
}

async function lines(file = join(dir, 'audit.jsonl')): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean);
}

describe('audit log', () => {
  it('appends numbered, chained records to an owner-only file, and verify passes', async () => {
    await write(20);
    expect((await stat(join(dir, 'audit.jsonl'))).mode & 0o777).toBe(0o600);
    const records = [];
    for await (const r of readAudit(dir)) records.push(r);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(records[1]!.prev).toBe(records[0]!.hash);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: true,
      records: 20,
      first: { seq: 1 },
      last: { seq: 20 },
    });
  });

  it('continues the chain across processes and restarts', async () => {
    await write(3);
    await write(2);
    const shared = new AuditLog(dataDir);
    await shared.append({ type: 'key_created', outcome: 'ok' });
    await shared.close();
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 6 });
  });

  it('names an edited record', async () => {
    await write(10);
    const all = await lines();
    all[4] = all[4]!.replace('"outcome":"allowed"', '"outcome":"denied"');
    await writeFile(join(dir, 'audit.jsonl'), `${all.join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      records: 4,
      bad: { file: 'audit.jsonl', line: 5, seq: 5, reason: expect.stringContaining('was edited') },
    });
  });

  it('names the record after a deleted one', async () => {
    await write(10);
    const all = await lines();
    all.splice(6, 1);
    await writeFile(join(dir, 'audit.jsonl'), `${all.join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      bad: { seq: 8, reason: 'follows record 6: records 7–7 were deleted' },
    });
  });

  it('names reordered records', async () => {
    await write(10);
    const all = await lines();
    [all[2], all[3]] = [all[3]!, all[2]!];
    await writeFile(join(dir, 'audit.jsonl'), `${all.join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      bad: { line: 3, seq: 4, reason: expect.stringContaining('were deleted') },
    });
  });

  it('detects deleted first records and a re-chained forgery', async () => {
    await write(5);
    const all = await lines();
    await writeFile(join(dir, 'audit.jsonl'), `${all.slice(2).join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      bad: { seq: 3, reason: expect.stringContaining('the records before it were deleted') },
    });
  });

  it('rotates by size and keeps one chain across the files', async () => {
    await write(200, { maxFileBytes: 4096 });
    const files = (await readdir(dir)).filter((f) => f.endsWith('.jsonl')).sort();
    expect(files.length).toBeGreaterThan(3);
    expect(files).toContain('audit.jsonl');
    expect(files[0]).toBe('audit-000001.jsonl');
    for (const f of files) expect((await stat(join(dir, f))).size).toBeLessThanOrEqual(4096);
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 200 });
    // Deleting a whole rotated file is a deletion too.
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, files[1]!));
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      bad: { reason: expect.stringContaining('were deleted') },
    });
  });

  it('follows new records as they are written, across a rotation', async () => {
    await write(3);
    const seen: number[] = [];
    const stop = new AbortController();
    const following = followAudit(dir, 1, (r) => seen.push(r.seq), stop.signal, 20);
    const log = new AuditLog(dataDir, { maxFileBytes: 2048 });
    await log.holdExclusive();
    for (let i = 0; i < 30; i++) {
      await log.append({ type: 'tool_call', outcome: 'allowed', details: { i } });
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 50));
    }
    await log.close();
    for (let i = 0; i < 100 && seen.length < 32; i++) await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await following;
    expect(seen).toEqual(Array.from({ length: 32 }, (_, i) => i + 2));
    expect((await readdir(dir)).filter((f) => f.startsWith('audit-')).length).toBeGreaterThan(0);
  });
});
