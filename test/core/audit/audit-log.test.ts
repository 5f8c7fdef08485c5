import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../main/core/audit/audit-log.ts';
import { auditFiles, formatRecord } from '../../../main/core/audit/audit-file.ts';
import { followAudit, verifyAudit } from '../../../main/core/audit/audit-reader.ts';
import { GENESIS, type AuditRecord } from '../../../main/core/audit/audit-types.ts';
import { auditRecords } from '../../support/audit-records.ts';

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

/** A line changed by `edit`, with its hash recomputed as the log would (its prev is kept). */
function rehash(line: string, edit: (r: AuditRecord) => AuditRecord): string {
  const r = edit(JSON.parse(line) as AuditRecord);
  const event = {
    type: r.type,
    outcome: r.outcome,
    ...(r.actor ? { actor: r.actor } : {}),
    ...(r.details ? { details: r.details } : {}),
  };
  return formatRecord(event, r.seq, r.prev, new Date(r.time)).line;
}

async function lines(file = join(dir, 'audit.jsonl')): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean);
}

describe('audit log', () => {
  it('appends numbered, chained records to an owner-only file, and verify passes', async () => {
    await write(20);
    expect((await stat(join(dir, 'audit.jsonl'))).mode & 0o777).toBe(0o600);
    const records = await auditRecords(dir);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(records[1]!.prev).toBe(records[0]!.hash);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: true,
      records: 20,
      first: { seq: 1 },
      last: { seq: 20 },
    });
  });

  it('writes the chain into a folder of its own itself, not an audit subfolder, when told to', async () => {
    const log = await write(2, { exactDir: true });
    expect(log.dir).toBe(dataDir);
    expect((await readdir(dataDir)).filter((f) => f.endsWith('.jsonl'))).toEqual(['audit.jsonl']);
    expect(await stat(dir).catch(() => undefined)).toBeUndefined();
    expect(await verifyAudit(dataDir)).toMatchObject({ ok: true, records: 2 });
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

  it('names two swapped neighbours as reordered, not deleted', async () => {
    await write(10);
    const all = await lines();
    [all[2], all[3]] = [all[3]!, all[2]!];
    await writeFile(join(dir, 'audit.jsonl'), `${all.join('\n')}\n`);
    expect(await verifyAudit(dir)).toEqual({
      ok: false,
      records: 2,
      bad: {
        file: 'audit.jsonl',
        line: 3,
        seq: 4,
        reason: 'was swapped with record 3 (audit.jsonl line 4): records were reordered',
      },
    });
  });

  it('names two swapped records far apart as reordered', async () => {
    await write(10);
    const all = await lines();
    [all[2], all[6]] = [all[6]!, all[2]!];
    await writeFile(join(dir, 'audit.jsonl'), `${all.join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      bad: {
        line: 3,
        seq: 7,
        reason: 'was swapped with record 3 (audit.jsonl line 7): records were reordered',
      },
    });
  });

  it('names a record moved further down the log as reordered, where it now is', async () => {
    await write(10);
    const all = await lines();
    all.push(...all.splice(2, 1));
    await writeFile(join(dir, 'audit.jsonl'), `${all.join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      records: 2,
      bad: {
        line: 10,
        seq: 3,
        reason:
          'was moved: it belongs after record 2 but comes after record 10; records were reordered',
      },
    });
  });

  it('names a record moved further up the log as reordered', async () => {
    await write(10);
    const all = await lines();
    all.splice(2, 0, ...all.splice(7, 1));
    await writeFile(join(dir, 'audit.jsonl'), `${all.join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      records: 2,
      bad: {
        line: 3,
        seq: 8,
        reason:
          'was moved: it belongs after record 7 but comes after record 2; records were reordered',
      },
    });
  });

  it('names a record moved into another file as reordered, in the file it was moved to', async () => {
    await write(40, { maxFileBytes: 2048 });
    const [oldest, next] = (await auditFiles(dir)) as [string, string];
    const from = await lines(oldest);
    const to = await lines(next);
    const [moved] = from.splice(1, 1) as [string];
    to.splice(2, 0, moved);
    await writeFile(oldest, `${from.join('\n')}\n`);
    await writeFile(next, `${to.join('\n')}\n`);
    const seq = (JSON.parse(moved) as AuditRecord).seq;
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      bad: {
        file: 'audit-000002.jsonl',
        line: 3,
        seq,
        reason: expect.stringMatching(
          /^was moved: it belongs after record 1 but comes after record \d+; records were reordered$/,
        ),
      },
    });
  });

  it('names a tangle of moved records as reordered, with where the missing record went', async () => {
    await write(10);
    const all = await lines();
    // 1 2 4 3 6 5 7…: two swaps in a row.
    [all[2], all[3], all[4], all[5]] = [all[3]!, all[2]!, all[5]!, all[4]!];
    await writeFile(join(dir, 'audit.jsonl'), `${all.join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      bad: {
        line: 3,
        seq: 4,
        reason:
          'is out of order: record 3 comes later (audit.jsonl line 4); records were reordered',
      },
    });
  });

  it('still calls records deleted when a later record is out of place too', async () => {
    await write(10);
    const all = await lines();
    // Record 3 is gone; 4 and 5 are swapped.
    all.splice(2, 3, all[4]!, all[3]!);
    await writeFile(join(dir, 'audit.jsonl'), `${all.join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      bad: { line: 3, seq: 5, reason: 'follows record 2: records 3–3 were deleted' },
    });
  });

  it('names the record after one that was edited and given a fresh hash of its own', async () => {
    await write(10);
    const all = await lines();
    // The edited record is self-consistent; only the next record's prev link shows the edit.
    all[4] = rehash(all[4]!, (r) => ({ ...r, outcome: 'denied' }));
    await writeFile(join(dir, 'audit.jsonl'), `${all.join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      records: 5,
      bad: { line: 6, seq: 6, reason: expect.stringContaining('does not follow record 5') },
    });
  });

  it('detects deleted first records, and a forgery that renumbers the rest from 1 and re-hashes each record', async () => {
    await write(5);
    const all = await lines();
    await writeFile(join(dir, 'audit.jsonl'), `${all.slice(2).join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      bad: { seq: 3, reason: expect.stringContaining('the records before it were deleted') },
    });
    // The forger hides the gap: records 3–5 become 1–3, the first chained to the genesis,
    // and every record's own hash is recomputed. The links between them still give it away.
    const forged = all
      .slice(2)
      .map((line, i) =>
        rehash(line, (r) => ({ ...r, seq: i + 1, ...(i === 0 ? { prev: GENESIS } : {}) })),
      );
    await writeFile(join(dir, 'audit.jsonl'), `${forged.join('\n')}\n`);
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      records: 1,
      bad: { line: 2, seq: 2, reason: expect.stringContaining('does not follow record 1') },
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
    const following = followAudit(dir, 1, (r) => seen.push(r.seq), stop.signal, {
      intervalMs: 20,
    });
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

  it('misses no record when the active file is rotated right after follow lists the files', async () => {
    const log = new AuditLog(dataDir, { maxFileBytes: 1500 });
    await log.holdExclusive();
    const append = (i: number) =>
      log.append({ type: 'tool_call', outcome: 'allowed', details: { i } });
    for (let i = 0; i < 3; i++) await append(i);
    const seen: number[] = [];
    const stop = new AbortController();
    let looks = 0;
    const following = followAudit(dir, 0, (r) => seen.push(r.seq), stop.signal, {
      intervalMs: 10,
      listFiles: async (d) => {
        const files = await auditFiles(d);
        // Between the listing and the reading: records land in audit.jsonl, which is then
        // rotated to audit-000001.jsonl, and more land in a new audit.jsonl.
        if (looks++ === 0) for (let i = 3; i < 13; i++) await append(i);
        return files;
      },
    });
    for (let i = 0; i < 100 && seen.length < 13; i++) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await following;
    await log.close();
    expect(await readdir(dir)).toContain('audit-000001.jsonl');
    expect(seen).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
  });
});
