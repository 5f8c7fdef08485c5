import type { MemoryBacking, MemoryStream } from './memory-backing.ts';
import type { StreamEntry } from './shared-store.ts';

// The streams of the memory store, with Redis's IDs and its approximate cap. Keys are full
// names and input is checked: the store does both before it calls here.

// Redis trims a capped stream (MAXLEN ~) only by whole nodes of 100 entries, so it keeps up to
// about that many more than asked. Trimming as late keeps appends cheap here too: one splice
// per hundred entries instead of a shift per entry.
const TRIM_SLACK = 100;

/** Appends entries to the stream at `key` (made when absent); resolves to their new IDs. */
export function streamAdd(
  backing: MemoryBacking,
  key: string,
  entries: readonly Record<string, string>[],
  maxLen: number,
  now: number,
): string[] {
  let stream = backing.readAs(key, 'stream', now)?.value;
  if (!stream) {
    stream = { entries: [], lastMs: 0, lastSeq: -1 };
    backing.write(key, { kind: 'stream', value: stream, expiresAt: Infinity });
  }
  const ids: string[] = [];
  for (const fields of entries) {
    // As in Redis, IDs keep growing when the clock steps back: the number part counts on.
    if (now > stream.lastMs) {
      stream.lastMs = now;
      stream.lastSeq = 0;
    } else stream.lastSeq++;
    const id = `${stream.lastMs}-${stream.lastSeq}`;
    stream.entries.push({ id, fields: { ...fields } });
    ids.push(id);
  }
  if (stream.entries.length > maxLen + TRIM_SLACK)
    stream.entries.splice(0, stream.entries.length - maxLen);
  return ids;
}

/** The newest `count` entries before `before` (if given), newest first. */
export function streamNewest(
  stream: MemoryStream | undefined,
  count: number,
  before: string | undefined,
): StreamEntry[] {
  const entries = stream?.entries ?? [];
  const end = before === undefined ? entries.length : firstAtOrAfter(entries, idOf(before), false);
  return entries
    .slice(Math.max(0, end - count), end)
    .reverse()
    .map(copy);
}

/** The oldest `count` entries after `after` (if given), oldest first. */
export function streamAfter(
  stream: MemoryStream | undefined,
  count: number,
  after: string | undefined,
): StreamEntry[] {
  const entries = stream?.entries ?? [];
  const start = after === undefined ? 0 : firstAtOrAfter(entries, idOf(after), true);
  return entries.slice(start, start + count).map(copy);
}

/** An ID as one number that orders as Redis orders IDs: milliseconds, then the number part. */
function idOf(id: string): bigint {
  const [ms = '0', seq = '0'] = id.split('-');
  return (BigInt(ms) << 64n) | BigInt(seq);
}

/** The index of the first entry whose ID is above `id` (`strictly`) or at least `id`. */
function firstAtOrAfter(entries: readonly StreamEntry[], id: bigint, strictly: boolean): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = idOf(entries[mid]!.id);
    if (at < id || (strictly && at === id)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function copy(entry: StreamEntry): StreamEntry {
  return { id: entry.id, fields: { ...entry.fields } };
}
