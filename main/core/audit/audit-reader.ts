import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { ACTIVE_FILE, auditFiles, parseLine } from './audit-file.ts';
import { GENESIS, type AuditRecord } from './audit-types.ts';

/** A line of the log with where it is, for naming a bad record. */
interface Located {
  file: string;
  line: number;
  text: string;
}

async function* lines(dir: string): AsyncGenerator<Located> {
  for (const file of await auditFiles(dir)) {
    let n = 0;
    const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const text of rl) {
      n++;
      if (text.trim()) yield { file, line: n, text };
    }
  }
}

/** Every record, oldest first (records that do not parse are skipped; `verify` names them). */
export async function* readAudit(dir: string): AsyncGenerator<AuditRecord> {
  for await (const { text } of lines(dir)) {
    const parsed = parseLine(text);
    if (parsed) yield parsed.record;
  }
}

/** The outcome of checking the chain. */
export type AuditVerification =
  | {
      ok: true;
      records: number;
      first?: { seq: number; time: string };
      last?: { seq: number; time: string };
    }
  | {
      ok: false;
      records: number;
      bad: { file: string; line: number; seq?: number; reason: string };
    };

/**
 * Checks every record: its hash covers its own content (an edit shows), its `prev` is the
 * hash of the record before (a deletion or a reordering shows), and the sequence numbers
 * count up by one across all files (a deletion shows). Names the first bad record.
 */
export async function verifyAudit(dir: string): Promise<AuditVerification> {
  let previous: AuditRecord | undefined;
  let first: AuditRecord | undefined;
  let count = 0;
  for await (const at of lines(dir)) {
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
    if (previous && record.seq > expectedSeq)
      return bad(
        `follows record ${previous.seq}: records ${expectedSeq}–${record.seq - 1} were deleted`,
      );
    if (previous && record.seq < expectedSeq)
      return bad(`is out of order: it comes after record ${previous.seq}`);
    if (!previous && (record.seq !== 1 || record.prev !== GENESIS)) {
      return bad(
        `is the first record but has number ${record.seq}: the records before it were deleted`,
      );
    }
    if (previous && record.prev !== previous.hash) {
      return bad(
        `does not follow record ${previous.seq}: records were removed, replaced or reordered`,
      );
    }
    first ??= record;
    previous = record;
    count++;
  }
  return {
    ok: true,
    records: count,
    ...(first ? { first: { seq: first.seq, time: first.time } } : {}),
    ...(previous ? { last: { seq: previous.seq, time: previous.time } } : {}),
  };
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
  intervalMs = 500,
): Promise<void> {
  const active = join(dir, ACTIVE_FILE);
  let last = afterSeq;
  let position = { ino: -1, offset: 0 };
  let partial = '';
  const emit = (record: AuditRecord) => {
    if (record.seq > last) {
      last = record.seq;
      onRecord(record);
    }
  };
  while (!signal.aborted) {
    const info = await stat(active).catch(() => undefined);
    if (info && info.ino !== position.ino) {
      // A new active file (first look, or a rotation): catch up through every file once.
      for await (const record of readAudit(dir)) emit(record);
      position = { ino: info.ino, offset: info.size };
      partial = '';
    } else if (info && info.size > position.offset) {
      const handle = await open(active, 'r');
      try {
        const buffer = Buffer.alloc(info.size - position.offset);
        await handle.read(buffer, 0, buffer.length, position.offset);
        position.offset = info.size;
        const text = partial + buffer.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const parsed = line.trim() ? parseLine(line) : undefined;
          if (parsed) emit(parsed.record);
        }
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
