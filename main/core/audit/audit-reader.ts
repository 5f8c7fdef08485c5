import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { ACTIVE_FILE, auditFiles, lastLine, parseLine, recordOf } from './audit-file.ts';
import { explainJump, seqOfLine, type Placed } from './audit-order.ts';
import { GENESIS, type AuditRecord } from './audit-types.ts';

/** A line of the log with where it is, for naming a bad record. */
interface Located {
  file: string;
  line: number;
  text: string;
}

/** The lines of one file; none when it is gone (pruned since it was listed). */
async function* fileLines(file: string): AsyncGenerator<string> {
  const input = createReadStream(file, 'utf8');
  const gone = new Promise<boolean>((resolve) => {
    input.once('error', () => resolve(true));
    input.once('open', () => resolve(false));
  });
  if (await gone) return;
  yield* createInterface({ input, crlfDelay: Infinity });
}

async function* lines(dir: string, listFiles = auditFiles): AsyncGenerator<Located> {
  for (const file of await listFiles(dir)) {
    let n = 0;
    const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const text of rl) {
      n++;
      if (text.trim()) yield { file, line: n, text };
    }
  }
}

/** Every record, oldest first (records that do not parse are skipped; `verify` names them). */
export async function* readAudit(dir: string, listFiles = auditFiles): AsyncGenerator<AuditRecord> {
  for await (const { text } of lines(dir, listFiles)) {
    const record = recordOf(text);
    if (record) yield record;
  }
}

/** The numbers of the lines `source` has left, and where they are; lines with none are skipped. */
async function* placed(source: AsyncIterable<Located>): AsyncGenerator<Placed> {
  for await (const at of source) {
    const seq = seqOfLine(at.text);
    if (seq !== undefined) yield { seq, file: basename(at.file), line: at.line };
  }
}

/** The outcome of checking the chain. */
export type AuditVerification =
  | {
      ok: true;
      records: number;
      first?: { seq: number; time: string };
      /** The chain's last record; its hash is what the next record would follow. */
      last?: { seq: number; time: string; hash: string };
    }
  | {
      ok: false;
      records: number;
      bad: { file: string; line: number; seq?: number; reason: string };
    };

/** What `verifyAudit` tells its caller on the way. */
export interface VerifyOptions {
  /** Called with each record that checked out so far, oldest first, as the chain is read once. */
  onRecord?: (record: AuditRecord) => void;
}

/** The boundaries a log_pruned record vouches for: `seq:hash` of each pruned file's last record. */
function prunedBoundaries(record: AuditRecord): string[] {
  if (record.type !== 'log_pruned') return [];
  const files = record.details?.files;
  if (!Array.isArray(files)) return [];
  return files.flatMap((f: unknown) => {
    const { lastSeq, lastHash } = (f ?? {}) as { lastSeq?: unknown; lastHash?: unknown };
    return typeof lastSeq === 'number' && typeof lastHash === 'string'
      ? [`${lastSeq}:${lastHash}`]
      : [];
  });
}

/**
 * Checks every record: its hash covers its own content (an edit shows), its `prev` is the
 * hash of the record before (a deletion or a reordering shows), and the sequence numbers
 * count up by one across all files: a jump is called a deletion only when the missing records
 * are nowhere further on, and otherwise names the record that was swapped or moved. The first record must start the
 * chain, unless older files were pruned: then a later log_pruned record in the chain must
 * name the record it follows (its number and hash), so deleting files by hand still shows.
 * Names the first bad record.
 */
export async function verifyAudit(
  dir: string,
  options: VerifyOptions = {},
): Promise<AuditVerification> {
  let previous: AuditRecord | undefined;
  let previousWhere: { file: string; line: number } | undefined;
  let first: AuditRecord | undefined;
  let unattested: { bad: AuditVerification; boundary: string } | undefined;
  let count = 0;
  const source = lines(dir);
  for await (const at of source) {
    const where = { file: basename(at.file), line: at.line };
    const parsed = parseLine(at.text);
    if (!parsed)
      return {
        ok: false,
        records: count,
        bad: { ...where, reason: 'is not a valid audit record (damaged or truncated)' },
      };
    const { record, intact } = parsed;
    const bad = (reason: string): AuditVerification => ({
      ok: false,
      records: count,
      bad: { ...where, seq: record.seq, reason },
    });
    if (!intact) return bad('was edited: its content does not match its hash');
    const expectedSeq = previous ? previous.seq + 1 : record.seq;
    if (previous && record.seq > expectedSeq) {
      // Deleted, or only out of place: the records after this one tell.
      const { place, reason } = await explainJump(
        { seq: previous.seq, ...previousWhere! },
        { seq: record.seq, ...where },
        placed(source),
      );
      return { ok: false, records: count, bad: { ...place, reason } };
    }
    if (previous && record.seq < expectedSeq)
      return bad(`is out of order: it comes after record ${previous.seq}`);
    if (!previous && (record.seq !== 1 || record.prev !== GENESIS)) {
      // Accepted only if a log_pruned record further on names exactly this boundary.
      unattested = {
        boundary: `${record.seq - 1}:${record.prev}`,
        bad: bad(
          `is the first record but has number ${record.seq}: the records before it were deleted (no log_pruned record says they were pruned)`,
        ),
      };
    }
    if (previous && record.prev !== previous.hash) {
      return bad(
        `does not follow record ${previous.seq}: records were removed, replaced or reordered`,
      );
    }
    if (unattested && prunedBoundaries(record).includes(unattested.boundary))
      unattested = undefined;
    options.onRecord?.(record);
    first ??= record;
    previous = record;
    previousWhere = where;
    count++;
  }
  if (unattested) return unattested.bad;
  return {
    ok: true,
    records: count,
    ...(first ? { first: { seq: first.seq, time: first.time } } : {}),
    ...(previous ? { last: { seq: previous.seq, time: previous.time, hash: previous.hash } } : {}),
  };
}

/** How `followAudit` looks. */
export interface FollowOptions {
  /** How long to wait between looks. */
  intervalMs?: number;
  /** Lists the log's files (auditFiles); a test slips a rotation in after it. */
  listFiles?: (dir: string) => Promise<string[]>;
}

/**
 * Follows the log like `tail -f`: calls `onRecord` for every record after `afterSeq`, reading
 * only what was appended since the last look, and across a rotation. Stops when `signal` aborts.
 */
export async function followAudit(
  dir: string,
  afterSeq: number,
  onRecord: (record: AuditRecord) => void,
  signal: AbortSignal,
  options: FollowOptions = {},
): Promise<void> {
  const { intervalMs = 500, listFiles = auditFiles } = options;
  const active = join(dir, ACTIVE_FILE);
  let last = afterSeq;
  let position = { ino: -1, offset: 0 };
  let partial = '';
  const emitLines = (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const record = line.trim() ? recordOf(line) : undefined;
      if (record && record.seq > last) {
        last = record.seq;
        onRecord(record);
      }
    }
  };
  while (!signal.aborted) {
    // The active file is read through a handle opened before the files are listed: when a
    // rotation renames it in between, its records are still read from this handle, and any
    // in the file that replaced it are read at the next look (it is a new file then).
    const handle = await open(active, 'r').catch(() => undefined);
    if (handle) {
      try {
        const { ino, size } = await handle.stat();
        const fresh = ino !== position.ino || size < position.offset;
        if (fresh) {
          // A new active file (first look, a rotation, or a repaired end): catch up on the
          // rotated files first; those that end before what was seen are skipped.
          partial = '';
          for (const file of await listFiles(dir)) {
            if (basename(file) === ACTIVE_FILE) continue;
            const end = recordOf((await lastLine(file)) ?? '')?.seq;
            if (end !== undefined && end <= last) continue;
            for await (const text of fileLines(file)) emitLines(`${text}\n`);
          }
        }
        const from = fresh ? 0 : position.offset;
        if (size > from) {
          const buffer = Buffer.alloc(size - from);
          await handle.read(buffer, 0, buffer.length, from);
          emitLines(buffer.toString('utf8'));
        }
        position = { ino, offset: size };
      } finally {
        await handle.close();
      }
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), {
        once: true,
      });
    });
  }
}
