import { ValetError } from '../../util/valet-error.ts';
import type { AdmitCheck, SlotLimits, TokenBucket } from './shared-store.ts';

// Every SharedStore checks its input with these, so a bad argument fails the same way on every
// backend, before anything is written. Messages name the argument, never a value or a key.

const bad = (message: string) => new ValetError('store-bad-input', message);

/** The prefix, checked: printable, no spaces, at most 64 characters (VALET_REDIS_PREFIX). */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || prefix.length > 64 || /[\s\p{Cc}]/u.test(prefix))
    throw bad(
      'The store prefix must be at most 64 characters without spaces or control characters; set VALET_REDIS_PREFIX to something like "mv:".',
    );
  return prefix;
}

/** A key or channel name, checked to be a string. */
export function checkName(name: unknown): string {
  if (typeof name !== 'string') throw bad('A store key or channel name must be a string.');
  return name;
}

/** A value, field or member, checked to be a string: callers serialise. */
export function checkValue(value: unknown, what = 'value'): string {
  if (typeof value !== 'string')
    throw bad(`A store ${what} must be a string, not ${typeof value}: serialise it first (JSON).`);
  return value;
}

/** A subscriber's listener, checked to be a function. */
export function checkListener(listener: unknown): void {
  if (typeof listener !== 'function') throw bad('A store subscription needs a listener function.');
}

/**
 * An expiry in milliseconds, checked to be a positive whole number: a NaN or a zero must never
 * turn into a key that lives for ever, nor into one gone at once.
 */
export function checkTtl(ttlMs: unknown): number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0)
    throw bad('A store expiry (ttlMs) must be a whole number of milliseconds above 0.');
  return ttlMs;
}

/** An optional expiry: undefined stays undefined. */
export function checkOptionalTtl(ttlMs: unknown): number | undefined {
  return ttlMs === undefined ? undefined : checkTtl(ttlMs);
}

/** A score to store, checked to be a finite number. */
export function checkScore(score: unknown): number {
  if (typeof score !== 'number' || !Number.isFinite(score))
    throw bad('A sorted-set score must be a finite number.');
  return score;
}

/** A range bound, checked to be a number (±Infinity for an open end), never NaN. */
export function checkBound(bound: unknown): number {
  if (typeof bound !== 'number' || Number.isNaN(bound))
    throw bad('A sorted-set range bound must be a number (use ±Infinity for an open end).');
  return bound;
}

/** A token bucket, checked: a positive finite rate and a whole burst of at least 1. */
export function checkBucket(bucket: TokenBucket): TokenBucket {
  const { ratePerSecond, burst } = bucket ?? {};
  if (typeof ratePerSecond !== 'number' || !Number.isFinite(ratePerSecond) || ratePerSecond <= 0)
    throw bad('A token bucket needs ratePerSecond, a finite number above 0.');
  if (!Number.isSafeInteger(burst) || burst < 1)
    throw bad('A token bucket needs burst, a whole number of at least 1.');
  return { ratePerSecond, burst };
}

/** Slot limits, checked: a whole cap of at least 1 and a valid expiry. */
export function checkSlot(slot: SlotLimits): SlotLimits {
  const { cap, ttlMs } = slot ?? {};
  if (!Number.isSafeInteger(cap) || cap < 1)
    throw bad('An in-flight slot needs cap, a whole number of at least 1.');
  return { cap, ttlMs: checkTtl(ttlMs) };
}

/** Admission's checks, checked: a list (or none) of known kinds, each with its argument. */
export function checkAdmitChecks(checks: unknown): AdmitCheck[] {
  if (checks === undefined) return [];
  if (!Array.isArray(checks)) throw bad('Admission checks must be a list.');
  return checks.map((check: unknown): AdmitCheck => {
    const { key, holds, field, member } = (check ?? {}) as Record<string, unknown>;
    const name = checkName(key);
    if (holds === 'key') return { key: name, holds };
    if (holds === 'no-field') return { key: name, holds, field: checkValue(field, 'field') };
    if (holds === 'member') return { key: name, holds, member: checkValue(member, 'member') };
    throw bad('An admission check holds one of: key, no-field, member.');
  });
}

/** A limit on how many members a range returns: a whole number of at least 1, or none. */
export function checkLimit(limit: unknown): number | undefined {
  if (limit === undefined) return undefined;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1)
    throw bad('A range limit must be a whole number of at least 1.');
  return limit;
}

/** The fields of one stream entry, checked: at least one, each value a string. */
export function checkFields(fields: unknown): Record<string, string> {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
    throw bad('A stream entry must be an object of fields.');
  const entries = Object.entries(fields);
  if (entries.length === 0) throw bad('A stream entry needs at least one field.');
  for (const [, value] of entries) checkValue(value);
  return fields as Record<string, string>;
}

/** A stream's cap (MAXLEN ~), checked to be a whole number of at least 1. */
export function checkMaxLen(maxLen: unknown): number {
  if (typeof maxLen !== 'number' || !Number.isSafeInteger(maxLen) || maxLen < 1)
    throw bad('A stream maxLen must be a whole number of at least 1.');
  return maxLen;
}

/** How many stream entries a read returns, checked to be a whole number of at least 1. */
export function checkCount(count: unknown): number {
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1)
    throw bad('A stream read count must be a whole number of at least 1.');
  return count;
}

const MAX_U64 = 2n ** 64n - 1n;

/** A stream ID given as a cursor, checked: `<milliseconds>-<number>`, as the store gave it. */
export function checkStreamId(id: unknown): string {
  const parts = typeof id === 'string' && /^(\d{1,20})-(\d{1,20})$/.exec(id);
  // Each part is a 64-bit number in Redis, which refuses anything larger.
  if (!parts || BigInt(parts[1]!) > MAX_U64 || BigInt(parts[2]!) > MAX_U64)
    throw bad(
      'A stream ID must be written <milliseconds>-<number>, as the store gave it (e.g. 1767225600000-0).',
    );
  return parts[0];
}

/** The error of every call made on a store after `close()`. */
export function storeClosedError(): ValetError {
  return new ValetError(
    'store-closed',
    'The shared store is closed: the server is shutting down, so this request cannot be served; retry on a running instance.',
  );
}
