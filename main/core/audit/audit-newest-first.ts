import { open, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ACTIVE_FILE, auditFiles, recordOf } from './audit-file.ts';
import { seqOfLine } from './audit-order.ts';
import type { AuditRecord, AuditType } from './audit-types.ts';

/** How `readAuditNewestFirst` reads. */
export interface NewestFirstOptions {
  /** Only records numbered below this (a page's cursor). */
  before?: number;
  /** Only records of this type (others are skipped before they are parsed). */
  type?: AuditType;
  /** How much is read at a time, from the end towards the start. */
  blockBytes?: number;
  /** Lists the log's files (auditFiles); a test slips a rotation in after it. */
  listFiles?: (dir: string) => Promise<string[]>;
}

const NEWLINE = 0x0a;
const DEFAULT_BLOCK = 64 * 1024;
/** Enough of a line's start to hold `{"seq":N,`. */
const SEQ_PEEK = 32;

/**
 * The log's records, newest first: from the end of the active file backwards in blocks, then
 * through the rotated files, newest first. Reads only as far as the caller goes on, and never
 * hashes (`audit verify` checks the chain). Lines that are not records (a torn last line, a
 * damaged one) are skipped. A rotation or a prune while it reads loses nothing it had not
 * read yet and repeats nothing: the active file is opened before the rotated ones are
 * listed, and numbers only go down.
 */
export async function* readAuditNewestFirst(
  dir: string,
  options: NewestFirstOptions = {},
): AsyncGenerator<AuditRecord> {
  const { type, blockBytes = DEFAULT_BLOCK, listFiles = auditFiles } = options;
  const marker = type ? `"type":${JSON.stringify(type)}` : undefined;
  // Everything read is below this; it falls with every record, so no record comes twice.
  let below = options.before ?? Infinity;
  const handles = async function* (): AsyncGenerator<FileHandle> {
    const active = await open(join(dir, ACTIVE_FILE), 'r').catch(() => undefined);
    let rotated: string[];
    try {
      rotated = await listFiles(dir);
    } catch (err) {
      await active?.close();
      throw err;
    }
    if (active) yield active;
    for (const file of rotated.filter((f) => basename(f) !== ACTIVE_FILE).reverse()) {
      // A file pruned since it was listed held only older records: there is nothing to miss.
      const handle = await open(file, 'r').catch(() => undefined);
      if (handle) yield handle;
    }
  };
  for await (const handle of handles()) {
    try {
      const end = await endBelow(handle, below, blockBytes);
      for await (const line of linesFromEnd(handle, end, blockBytes)) {
        const seq = seqOfLine(line);
        if (seq === undefined || seq >= below) continue;
        if (marker && !line.includes(marker)) continue;
        const record = recordOf(line);
        if (!record || (type && record.type !== type)) continue;
        below = seq;
        yield record;
      }
    } finally {
      await handle.close();
    }
  }
}

/**
 * Where to start reading a file backwards so that the first line read is numbered below
 * `below`: the file's records count up, so a bisection over its bytes finds it in a few small
 * reads, rather than a scan back from the end through every newer record. Where a look finds
 * no record to go by, it stops early: the lines after the offset it gives are filtered anyway.
 */
async function endBelow(handle: FileHandle, below: number, blockBytes: number): Promise<number> {
  const { size } = await handle.stat();
  if (below === Infinity) return size;
  let lo = 0;
  let hi = size;
  const peek = Buffer.alloc(Math.min(blockBytes, 16 * 1024));
  while (hi - lo > blockBytes) {
    const mid = Math.floor((lo + hi) / 2);
    const { bytesRead } = await handle.read(peek, 0, peek.length, mid);
    const newline = peek.subarray(0, bytesRead).indexOf(NEWLINE);
    if (newline < 0) break;
    const start = mid + newline + 1;
    if (start >= hi) break;
    const head = Buffer.alloc(SEQ_PEEK);
    const got = await handle.read(head, 0, SEQ_PEEK, start);
    const seq = seqOfLine(head.toString('utf8', 0, got.bytesRead));
    if (seq === undefined) break;
    if (seq >= below) hi = start;
    else lo = start;
  }
  return hi;
}

/** The lines of a file before byte `end`, last first, read in blocks from `end` backwards. */
async function* linesFromEnd(
  handle: FileHandle,
  end: number,
  blockBytes: number,
): AsyncGenerator<string> {
  let pos = end;
  // The start of the file's text after `pos` up to the first newline: a line cut by a block.
  let carry = Buffer.alloc(0);
  while (pos > 0) {
    const start = Math.max(0, pos - blockBytes);
    const block = Buffer.allocUnsafe(pos - start);
    const { bytesRead } = await handle.read(block, 0, block.length, start);
    // Short only when the file shrank under us (a torn end cut at start): its lines are
    // then whatever they are, and those that are not records are skipped.
    const text = carry.length
      ? Buffer.concat([block.subarray(0, bytesRead), carry])
      : block.subarray(0, bytesRead);
    let lineEnd = text.length;
    let newline = lineEnd > 0 ? text.lastIndexOf(NEWLINE, lineEnd - 1) : -1;
    while (newline >= 0) {
      if (lineEnd > newline + 1) yield text.toString('utf8', newline + 1, lineEnd);
      lineEnd = newline;
      newline = lineEnd > 0 ? text.lastIndexOf(NEWLINE, lineEnd - 1) : -1;
    }
    carry = text.subarray(0, lineEnd);
    pos = start;
  }
  if (carry.length) yield carry.toString('utf8');
}
