import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { auditFiles, parseLine } from './audit-file.ts';
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
