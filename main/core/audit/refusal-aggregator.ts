import type { AuditEvent } from './audit-types.ts';

/** A refused request, as the endpoint reports it. */
export interface Refusal {
  type: 'endpoint_rejected' | 'rate_limited';
  reason: string;
  status?: number;
  keyId?: string;
  keyName?: string;
  /** The request's Origin header, when it sent one. */
  origin?: string;
  retryAfterSeconds?: number;
}

/** How the aggregator writes, and how much it lets through. */
export interface RefusalAggregatorOptions {
  /** Writes one audit record (without waiting for it). */
  record: (event: AuditEvent) => void;
  /** At most one record per source and reason in this time; 1 s by default. */
  windowMs?: number;
  /** Sources counted apart at once; refusals from more are counted as "other sources". */
  maxSources?: number;
}

interface Bucket {
  latest: Refusal;
  source: string;
  count: number;
  since: Date | undefined;
  timer: NodeJS.Timeout;
}

/** How much of an Origin the record keeps: enough to tell sources apart. */
const MAX_SOURCE_CHARS = 200;

/**
 * Turns floods of refused requests into a bounded number of audit records. Per source (the
 * key id when known, else the Origin, else "no origin") and reason, the first refusal after a
 * quiet spell is written at once; those that follow within the window are counted, and the
 * count is written as one record when the window ends. So a web page firing thousands of
 * requests a second costs about one record a second, and the counts add up to what was refused.
 */
export class RefusalAggregator {
  readonly #record: (event: AuditEvent) => void;
  readonly #windowMs: number;
  readonly #maxSources: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RefusalAggregatorOptions) {
    this.#record = options.record;
    this.#windowMs = options.windowMs ?? 1_000;
    this.#maxSources = options.maxSources ?? 32;
  }

  /** Counts one refused request. */
  add(refusal: Refusal): void {
    let source = refusal.keyId ?? refusal.origin?.slice(0, MAX_SOURCE_CHARS) ?? 'no origin';
    let id = `${refusal.type}\n${refusal.reason}\n${source}`;
    if (!this.#buckets.has(id) && this.#buckets.size >= this.#maxSources) {
      source = 'other sources';
      id = `${refusal.type}\n${refusal.reason}\n${source}`;
    }
    const bucket = this.#buckets.get(id);
    if (bucket) {
      bucket.count++;
      bucket.since ??= new Date();
      bucket.latest = refusal;
      return;
    }
    this.#write(refusal, source, 1, undefined);
    this.#buckets.set(id, {
      latest: refusal,
      source,
      count: 0,
      since: undefined,
      timer: this.#schedule(id),
    });
  }

  /** Writes every count still pending and stops (on close). */
  flush(): void {
    for (const bucket of this.#buckets.values()) {
      clearTimeout(bucket.timer);
      if (bucket.count) this.#write(bucket.latest, bucket.source, bucket.count, bucket.since);
    }
    this.#buckets.clear();
  }

  #schedule(id: string): NodeJS.Timeout {
    return setTimeout(() => this.#windowEnded(id), this.#windowMs).unref();
  }

  #windowEnded(id: string): void {
    const bucket = this.#buckets.get(id);
    if (!bucket) return;
    if (!bucket.count) {
      // A quiet window: the next refusal from this source is news again.
      this.#buckets.delete(id);
      return;
    }
    this.#write(bucket.latest, bucket.source, bucket.count, bucket.since);
    bucket.count = 0;
    bucket.since = undefined;
    bucket.timer = this.#schedule(id);
  }

  #write(refusal: Refusal, source: string, count: number, since: Date | undefined): void {
    const window = since ? { since: since.toISOString() } : {};
    if (refusal.type === 'rate_limited') {
      this.#record({
        type: 'rate_limited',
        actor: {
          ...(refusal.keyId ? { keyId: refusal.keyId } : {}),
          ...(refusal.keyName ? { keyName: refusal.keyName } : {}),
        },
        outcome: 'rejected',
        details: {
          reason: refusal.reason,
          retryAfterSeconds: refusal.retryAfterSeconds,
          source,
          count,
          ...window,
        },
      });
      return;
    }
    this.#record({
      type: 'endpoint_rejected',
      ...(refusal.keyId ? { actor: { keyId: refusal.keyId } } : {}),
      outcome: 'rejected',
      details: { reason: refusal.reason, status: refusal.status, source, count, ...window },
    });
  }
}
