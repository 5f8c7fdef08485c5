import { randomBytes } from 'node:crypto';
import { chmod, open, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { auditFiles, recordOf } from './audit-file.ts';
import { GENESIS, type AuditEvent, type AuditRecord } from './audit-types.ts';

/** Where the log ends, and the repairs made to get there (log_recovered events to write first). */
export interface AuditTail {
  seq: number;
  hash: string;
  recovered: AuditEvent[];
}

/** Records are far smaller than this; a look at the file's end usually settles it. */
const QUICK_LOOK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** The last line of `buffer` that is a record: where it ends (after its newline) and the record. */
function lastRecord(
  buffer: Buffer,
): { end: number; record: AuditRecord; newline: boolean } | undefined {
  let pos = buffer.length;
  while (pos > 0) {
    const newline = buffer[pos - 1] === NEWLINE;
    const textEnd = newline ? pos - 1 : pos;
    const start = textEnd === 0 ? 0 : buffer.lastIndexOf(NEWLINE, textEnd - 1) + 1;
    // A record that parses is kept, its hash unchecked: an edit is for `audit verify` to go
    // on naming, not damage to cut away.
    const record = recordOf(buffer.toString('utf8', start, textEnd));
    if (record) return { end: pos, record, newline };
    pos = start;
  }
  return undefined;
}

/** True when the file ends in a whole record and a newline: nothing to repair. */
async function endsClean(file: string): Promise<AuditRecord | undefined | 'empty'> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return 'empty';
    const length = Math.min(size, QUICK_LOOK_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    if (buffer[length - 1] !== NEWLINE) return undefined;
    const found = lastRecord(buffer);
    return found?.end === length && (length === size || buffer.indexOf(NEWLINE) < found.end - 1)
      ? found.record
      : undefined;
  } finally {
    await handle.close();
  }
}

function stamp(now: Date): string {
  return now.toISOString().replace(/[-:.]/g, '');
}

/** Copies the cut bytes to an owner-only file in the audit dir, on disk before the cut is made. */
async function quarantine(dir: string, bytes: Buffer, now: Date): Promise<string> {
  const name = `audit-torn-${stamp(now)}-${randomBytes(3).toString('hex')}.txt`;
  const path = join(dir, name);
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(path, 0o600);
  return name;
}

async function cut(file: string, length: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.truncate(length);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * Finds the last record of the log. A crash between write and fsync can leave the end of the
 * newest file torn (half a line) or damaged (zero bytes): whatever follows the last whole
 * record is copied to a quarantine file, cut off, and named in a log_recovered event that the
 * caller writes as the next record, so the chain continues from the last good one.
 * Call it only while holding the log's lock.
 */
export async function findTail(dir: string, now = new Date()): Promise<AuditTail> {
  const cuts: Array<{ file: string; bytes: number; quarantine: string }> = [];
  let tail: AuditRecord | undefined;
  for (const file of (await auditFiles(dir)).reverse()) {
    const quick = await endsClean(file);
    if (quick === 'empty') continue;
    if (quick) {
      tail = quick;
      break;
    }
    const buffer = await readFile(file);
    const found = lastRecord(buffer);
    const keep = found?.end ?? 0;
    if (keep < buffer.length) {
      const name = await quarantine(dir, buffer.subarray(keep), now);
      await cut(file, keep);
      cuts.push({ file: basename(file), bytes: buffer.length - keep, quarantine: name });
    }
    if (found && !found.newline) {
      // The record is whole; only its newline is missing.
      const handle = await open(file, 'a');
      await handle.write('\n');
      await handle.close();
    }
    if (found) {
      tail = found.record;
      break;
    }
  }
  const seq = tail?.seq ?? 0;
  return {
    seq,
    hash: tail?.hash ?? GENESIS,
    recovered: cuts.map((c) => ({
      type: 'log_recovered',
      outcome: 'recovered',
      details: { ...c, lastGoodSeq: seq },
    })),
  };
}
