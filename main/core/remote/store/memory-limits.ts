import type { MemoryBacking, MemoryEntryOf } from './memory-backing.ts';
import type { ScoredMember, SlotLimits, TokenBucket, TokenTake } from './shared-store.ts';

// The compound operations of the memory store. Each runs to its end without yielding, which is
// what makes it atomic here; the Redis store runs the same steps as one Lua script.

/** The members of a sorted set scored `lo` ≤ score ≤ `hi`, in Redis's order: score, then member. */
export function byScore(zset: MemoryEntryOf<'zset'> | undefined, lo: number, hi: number) {
  return [...(zset?.value ?? [])]
    .filter(([, score]) => score >= lo && score <= hi)
    .sort(([am, as], [bm, bs]) => as - bs || (am < bm ? -1 : am > bm ? 1 : 0))
    .map(([member, score]): ScoredMember => ({ member, score }));
}

/** Takes one token from the bucket at `key` (full keys, checked input), as SharedStore.takeToken. */
export function takeToken(
  backing: MemoryBacking,
  key: string,
  { ratePerSecond, burst }: TokenBucket,
  now: number,
): TokenTake {
  const held = backing.readAs(key, 'hash', now)?.value;
  // A bucket that cannot be read counts as empty: it refuses until it refills, never lets a flood by.
  const before = held ? finiteOr(Number(held.get('tokens')), 0) : burst;
  const since = held ? finiteOr(Number(held.get('ts')), now) : now;
  // A clock that stepped back refills nothing rather than draining the bucket.
  const tokens = Math.min(burst, before + (Math.max(0, now - since) * ratePerSecond) / 1000);
  const allowed = tokens >= 1;
  const left = allowed ? tokens - 1 : tokens;
  const fullInMs = Math.max(1, Math.ceil(((burst - left) * 1000) / ratePerSecond));
  backing.write(key, {
    kind: 'hash',
    value: new Map([
      ['tokens', String(left)],
      ['ts', String(now)],
    ]),
    expiresAt: now + fullInMs,
  });
  if (allowed) return { allowed: true, remaining: Math.floor(left) };
  return {
    allowed: false,
    retryAfterMs: Math.max(1, Math.ceil(((1 - left) * 1000) / ratePerSecond)),
  };
}

/** Takes an in-flight slot for `member` at `key` (full keys, checked input), as SharedStore.acquireSlot. */
export function acquireSlot(
  backing: MemoryBacking,
  key: string,
  member: string,
  { cap, ttlMs }: SlotLimits,
  now: number,
): boolean {
  const entry = backing.readAs(key, 'zset', now);
  const slots = entry?.value ?? new Map<string, number>();
  for (const [held, deadline] of slots) if (deadline <= now) slots.delete(held);
  const acquired = slots.has(member) || slots.size < cap;
  if (acquired) slots.set(member, now + ttlMs);
  if (slots.size === 0) {
    backing.delete(key);
    return acquired;
  }
  let lastDeadline = now;
  for (const deadline of slots.values()) lastDeadline = Math.max(lastDeadline, deadline);
  backing.write(key, { kind: 'zset', value: slots, expiresAt: lastDeadline });
  return acquired;
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}
