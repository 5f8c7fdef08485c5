/** A record's number and where it is in the log. */
export interface Placed {
  seq: number;
  file: string;
  line: number;
}

/** What `audit verify` says of a jump in the numbers: the record to name, and why. */
export interface JumpVerdict {
  place: Placed;
  reason: string;
}

const where = (p: Placed) => `${p.file} line ${p.line}`;

/** The record's number read from the start of its line (no parse, no hash), if it has one. */
export function seqOfLine(text: string): number | undefined {
  const m = /^\{"seq":(\d+),/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** True when `list` from `start` holds `count` numbers counting up by one from `from`. */
function runs(list: Placed[], start: number, count: number, from: number): boolean {
  for (let i = 0; i < count; i++) if (list[start + i]?.seq !== from + i) return false;
  return true;
}

/** True when the record at `index` is missing (the log ends) or is number `seq`. */
function endsOr(list: Placed[], index: number, seq: number): boolean {
  const next = list[index];
  return next === undefined || next.seq === seq;
}

/**
 * Explains why record `at` follows `before` with numbers missing in between. The numbers
 * that never show up later were deleted; when the first missing one does show up later, the
 * records were reordered: two swapped, one moved down, one moved up, or worse. `later` reads
 * the numbers of the records after `at`, in order; it is read only as far as needed.
 */
export async function explainJump(
  before: Placed,
  at: Placed,
  later: AsyncIterable<Placed>,
): Promise<JumpVerdict> {
  const expected = before.seq + 1;
  const rest: Placed[] = [];
  let found = -1;
  let firstLater: number | undefined;
  const gap = at.seq - expected;
  for await (const p of later) {
    rest.push(p);
    if (p.seq > expected && p.seq < at.seq) firstLater = Math.min(firstLater ?? p.seq, p.seq);
    if (found < 0 && p.seq === expected) found = rest.length - 1;
    // Enough to tell the cases below apart: the record after the moved one, and the run.
    if (found >= 0 && rest.length > Math.max(found + 1, gap)) break;
  }
  if (found < 0) {
    const last = (firstLater ?? at.seq) - 1;
    return {
      place: at,
      reason: `follows record ${before.seq}: records ${expected}–${last} were deleted`,
    };
  }
  const moved = rest[found]!;
  const reordered = 'records were reordered';
  if (
    found === gap - 1 &&
    runs(rest, 0, found, expected + 1) &&
    endsOr(rest, found + 1, at.seq + 1)
  )
    return {
      place: at,
      reason: `was swapped with record ${expected} (${where(moved)}): ${reordered}`,
    };
  if (found === 0 && runs(rest, 0, gap, expected) && endsOr(rest, gap, at.seq + 1)) {
    // The run from `expected` is whole, but `at` came first: it was moved up.
    return {
      place: at,
      reason: `was moved: it belongs after record ${at.seq - 1} but comes after record ${before.seq}; ${reordered}`,
    };
  }
  const after = found > 0 ? rest[found - 1]! : at;
  if (gap === 1 && runs(rest, 0, found, at.seq + 1) && endsOr(rest, found + 1, after.seq + 1))
    return {
      place: moved,
      reason: `was moved: it belongs after record ${before.seq} but comes after record ${after.seq}; ${reordered}`,
    };
  return {
    place: at,
    reason: `is out of order: record ${expected} comes later (${where(moved)}); ${reordered}`,
  };
}
