import type { RateLimits } from '../policy/policy-schema.ts';

/** A request let through, to be released when it ends. */
export interface Admission {
  ok: true;
  release(): void;
}

/** A request refused, with when to try again. */
export interface Refusal {
  ok: false;
  reason: 'rate' | 'key-concurrency' | 'total-concurrency';
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updated: number;
  inFlight: number;
}

/**
 * Per-key token buckets and concurrency caps, plus a cap for the whole endpoint. Each key
 * has its own bucket and its own share of concurrency, so one noisy key is refused long
 * before it can slow the others.
 */
export class RateLimiter {
  readonly #limits: () => RateLimits;
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  #total = 0;

  constructor(limits: () => RateLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  acquire(keyId: string): Admission | Refusal {
    const limits = this.#limits();
    const now = this.#now();
    const perMs = limits.requestsPerMinute / 60_000;
    let bucket = this.#buckets.get(keyId);
    if (!bucket) {
      bucket = { tokens: limits.burst, updated: now, inFlight: 0 };
      this.#buckets.set(keyId, bucket);
    }
    bucket.tokens = Math.min(limits.burst, bucket.tokens + (now - bucket.updated) * perMs);
    bucket.updated = now;
    if (bucket.inFlight >= limits.concurrentPerKey)
      return { ok: false, reason: 'key-concurrency', retryAfterSeconds: 1 };
    if (this.#total >= limits.concurrentTotal)
      return { ok: false, reason: 'total-concurrency', retryAfterSeconds: 1 };
    if (bucket.tokens < 1)
      return {
        ok: false,
        reason: 'rate',
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
      };
    bucket.tokens -= 1;
    bucket.inFlight++;
    this.#total++;
    const held = bucket;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        held.inFlight--;
        this.#total--;
      },
    };
  }
}
