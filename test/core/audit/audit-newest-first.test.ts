import { appendFile, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { auditFiles } from '../../../main/core/audit/audit-file.ts';
import { AuditLog, type AuditLogOptions } from '../../../main/core/audit/audit-log.ts';
import {
  readAuditNewestFirst,
  type NewestFirstOptions,
} from '../../../main/core/audit/audit-newest-first.ts';
import type { AuditEvent } from '../../../main/core/audit/audit-types.ts';
import { auditRecords } from '../../support/audit-records.ts';

let dataDir: string;
let dir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'valet-audit-newest-'));
  dir = join(dataDir, 'audit');
});

/** Event `i` of a day's log: mostly tool calls, with other records between them. */
function event(i: number): AuditEvent {
  if (i % 5 === 4) return { type: 'client_connected', actor: { keyName: 'k' }, outcome: 'ok' };
  return {
    type: 'tool_call',
    // Multi-byte names, so that blocks cut characters in half as well as lines.
    actor: { keyId: 'id', keyName: i % 2 ? 'Zoë' : 'vscode', client: 'Claude 🙂 1.0' },
    outcome: 'allowed',
    details: { tool: 'get_user_details', i, durationMs: 1, graphRequestIds: [] },
  };
}

async function write(from: number, to: number, options: AuditLogOptions = {}): Promise<void> {
  const log = new AuditLog(dataDir, options);
  await log.holdExclusive();
  for (let i = from; i < to; i++) await log.append(event(i));
  await log.close();
}

async function newestFirst(options: NewestFirstOptions = {}, max = Infinity): Promise<number[]> {
  const seqs: number[] = [];
  for await (const record of readAuditNewestFirst(dir, options)) {
    seqs.push(record.seq);
    if (seqs.length >= max) break;
  }
  return seqs;
}

/** The numbers of the records a full read from the start finds, newest first. */
async function expected(keep: (seq: number, type: string) => boolean = () => true) {
  return (await auditRecords(dir))
    .filter((r) => keep(r.seq, r.type))
    .map((r) => r.seq)
    .reverse();
}

describe('reading the audit log newest first', () => {
  it('goes back from the end of the active file through every rotated file, in order, none twice', async () => {
    await write(0, 300, { maxFileBytes: 4096 });
    expect((await auditFiles(dir)).length).toBeGreaterThan(10);
    const seqs = await newestFirst();
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => 300 - i));
  });

  it('gives the same records in blocks smaller than a line, multi-byte characters cut in half included', async () => {
    await write(0, 120, { maxFileBytes: 4096 });
    for (const blockBytes of [7, 100, 333])
      expect(await newestFirst({ blockBytes })).toEqual(await expected());
    const all: string[] = [];
    for await (const r of readAuditNewestFirst(dir, { blockBytes: 7, type: 'tool_call' }))
      all.push(`${r.actor?.keyName}/${r.actor?.client}`);
    expect(new Set(all)).toEqual(new Set(['Zoë/Claude 🙂 1.0', 'vscode/Claude 🙂 1.0']));
  });

  it('starts below a cursor, deep in an old file as in the newest one, at any block size', async () => {
    await write(0, 400, { maxFileBytes: 8192 });
    for (const before of [400, 401, 250, 37, 2, 1])
      for (const blockBytes of [64, 1024, 65536])
        expect(await newestFirst({ before, blockBytes })).toEqual(
          await expected((seq) => seq < before),
        );
  });

  it('keeps only records of the type asked for', async () => {
    await write(0, 50);
    expect(await newestFirst({ type: 'tool_call' })).toEqual(
      await expected((_, type) => type === 'tool_call'),
    );
    expect(await newestFirst({ type: 'client_connected', before: 20 })).toEqual([15, 10, 5]);
  });

  it('skips a torn last line (a crash mid-write) and reads every whole record before it', async () => {
    await write(0, 12);
    await appendFile(join(dir, 'audit.jsonl'), '{"seq":13,"time":"2025-01-01T00:00:00.000Z","ty');
    expect(await newestFirst()).toEqual(Array.from({ length: 12 }, (_, i) => 12 - i));
    expect(await newestFirst({ before: 13, blockBytes: 16 })).toHaveLength(12);
  });

  it('reads only as far as its reader goes on', async () => {
    await write(0, 30);
    expect(await newestFirst({}, 3)).toEqual([30, 29, 28]);
  });

  it('reads an empty or missing log as no records', async () => {
    expect(await newestFirst()).toEqual([]);
    await write(0, 0);
    expect(await newestFirst({ before: 5 })).toEqual([]);
  });

  it('misses and repeats nothing when the active file is rotated between its opening and the listing of the others', async () => {
    await write(0, 40, { maxFileBytes: 2048 });
    const before = await expected();
    const log = new AuditLog(dataDir, { maxFileBytes: 2048 });
    await log.holdExclusive();
    let rotatedFiles = 0;
    const seqs: number[] = [];
    const reading = readAuditNewestFirst(dir, {
      listFiles: async (d) => {
        // The active file is open for reading; now records come in and rotate it away.
        const files = (await readdir(d)).length;
        for (let i = 40; i < 60; i++) await log.append(event(i));
        rotatedFiles = (await readdir(d)).length - files;
        return auditFiles(d);
      },
    });
    for await (const record of reading) seqs.push(record.seq);
    await log.close();
    expect(rotatedFiles).toBeGreaterThan(0);
    // What was there when the read began, newest first, each once (newer records may show too).
    expect(seqs.filter((s) => s <= before[0]!)).toEqual(before);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
  });
});
