import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditLogOptions } from '../../../main/core/audit/audit-log.ts';
import { verifyAudit } from '../../../main/core/audit/audit-reader.ts';
import { auditRecords } from '../../support/audit-records.ts';

let dataDir: string;
let dir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'valet-audit-retention-'));
  dir = join(dataDir, 'audit');
});

async function write(n: number, options: AuditLogOptions): Promise<void> {
  const log = new AuditLog(dataDir, options);
  await log.holdExclusive();
  for (let i = 0; i < n; i++)
    await log.append({ type: 'tool_call', outcome: 'allowed', details: { i } });
  await log.close();
}

const all = () => auditRecords(dir);

async function logFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.jsonl')).sort();
}

describe('audit retention', () => {
  it('prunes the oldest files past the size limit, says so in the chain, and verify passes', async () => {
    await write(400, { maxFileBytes: 4096, retention: { maxBytes: 16_384 } });
    const files = await logFiles();
    expect(files[0]).not.toBe('audit-000001.jsonl');
    expect(files).toContain('audit.jsonl');
    const sizes = await Promise.all(files.map(async (f) => (await stat(join(dir, f))).size));
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(16_384);

    const records = await all();
    const pruned = records.filter((r) => r.type === 'log_pruned');
    expect(pruned.length).toBeGreaterThan(0);
    expect(records[0]!.seq).toBeGreaterThan(1);
    expect(pruned.at(-1)!.details).toMatchObject({
      files: [{ file: expect.stringMatching(/^audit-\d{6}\.jsonl$/) }],
    });
    // The first record kept follows the last one pruned, as the newest log_pruned says.
    const boundaries = pruned.flatMap(
      (r) => r.details?.files as Array<{ lastSeq: number; lastHash: string }>,
    );
    expect(boundaries).toContainEqual(
      expect.objectContaining({ lastSeq: records[0]!.seq - 1, lastHash: records[0]!.prev }),
    );
    expect(await verifyAudit(dir)).toMatchObject({
      ok: true,
      records: records.length,
      last: { seq: records.at(-1)!.seq },
    });
  });

  it('prunes files whose newest record is past the age limit when a server starts, keeping the file with the head', async () => {
    await write(60, { maxFileBytes: 2048 });
    const before = await logFiles();
    expect(before.length).toBeGreaterThan(3);
    await new Promise((r) => setTimeout(r, 30));
    const log = new AuditLog(dataDir, { retention: { maxAgeMs: 10 } });
    await log.holdExclusive();
    await log.close();
    // Every rotated file is too old; the active file holds the head and stays.
    expect(await logFiles()).toEqual(['audit.jsonl']);
    const records = await all();
    expect(records.at(-1)).toMatchObject({ type: 'log_pruned', seq: 61 });
    expect(records.at(-1)!.details?.files).toHaveLength(before.length - 1);
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, first: { seq: records[0]!.seq } });
  });

  it('never prunes the active file, even when it alone is over the limit', async () => {
    await write(30, { maxFileBytes: 1_000_000, retention: { maxBytes: 100 } });
    expect(await logFiles()).toEqual(['audit.jsonl']);
    expect((await all()).map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('accepts a prune that stopped half-way (a crash between deletions)', async () => {
    await write(120, { maxFileBytes: 2048 });
    const copy = await mkdtemp(join(tmpdir(), 'valet-audit-copy-'));
    await cp(dir, copy, { recursive: true });
    const log = new AuditLog(dataDir, { maxFileBytes: 2048, retention: { maxAgeMs: 1 } });
    await new Promise((r) => setTimeout(r, 10));
    await log.holdExclusive();
    await log.close();
    const pruned = (await all()).find((r) => r.type === 'log_pruned')!;
    const files = (pruned.details?.files as Array<{ file: string }>).map((f) => f.file);
    expect(files.length).toBeGreaterThan(2);
    // Only the first file had gone when the process died: put the others back.
    for (const f of files.slice(1)) await cp(join(copy, f), join(dir, f));
    expect(await verifyAudit(dir)).toMatchObject({ ok: true });
  });

  it('refuses a log whose oldest file was deleted by hand, with no log_pruned record', async () => {
    await write(60, { maxFileBytes: 2048 });
    await rm(join(dir, 'audit-000001.jsonl'));
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      records: 0,
      bad: {
        file: 'audit-000002.jsonl',
        line: 1,
        reason: expect.stringContaining('no log_pruned record says they were pruned'),
      },
    });
  });

  it('refuses a log where one more file was deleted than the log_pruned record names', async () => {
    await write(300, { maxFileBytes: 2048, retention: { maxBytes: 12_000 } });
    expect(await verifyAudit(dir)).toMatchObject({ ok: true });
    const oldest = (await logFiles())[0]!;
    expect(oldest).not.toBe('audit.jsonl');
    await rm(join(dir, oldest));
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      bad: { reason: expect.stringContaining('the records before it were deleted') },
    });
  });
});
