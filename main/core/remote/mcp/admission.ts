import type { RateLimits } from '../../policy/policy-schema.ts';
import type { SharedStore } from '../store/shared-store.ts';
import type { RemoteIdentity } from './remote-identity.ts';

/** A request let in: its slot is given back once, when its exchange ends. */
export interface Admitted {
  ok: true;
  release(): void;
}

/** A request refused: why (for the log) and when the client may try again. */
export interface Refused {
  ok: false;
  reason: 'key rate' | 'user rate' | 'key concurrency' | 'server concurrency';
  retryAfterSeconds: number;
}

/** How long a slot is held at most: past any approval wait, so a live call never loses it. */
export function slotTtlMs(approvalTimeoutSeconds: number): number {
  return Math.max(120_000, (approvalTimeoutSeconds + 60) * 1000);
}

/**
 * The rate limits of remote calls, from the policy's numbers: a token bucket per key and one per
 * user (so many keys of one user share one allowance), both in the shared store so that every
 * instance counts against the same bucket; requests in flight per key as slots in the store
 * (freed by the deadline if an instance dies); and requests in flight on this instance.
 */
export class RemoteAdmission {
  readonly #store: SharedStore;
  #total = 0;

  constructor(store: SharedStore) {
    this.#store = store;
  }

  async admit(
    identity: RemoteIdentity,
    requestId: string,
    limits: RateLimits,
    approvalTimeoutSeconds: number,
  ): Promise<Admitted | Refused> {
    // This instance's own cap first: a full server takes nothing from the shared limits.
    if (this.#total >= limits.concurrentTotal) return refused('server concurrency', 1000);
    const bucket = { ratePerSecond: limits.requestsPerMinute / 60, burst: limits.burst };
    const key = identity.key.id;
    const slotKey = `inflight:${key}`;
    // The key's bucket, the user's, then a slot: one round trip to the store.
    const admission = await this.#store.admit({
      buckets: [
        { key: `rl:${key}`, bucket },
        { key: `rl:user:${identity.principal.oid}`, bucket },
      ],
      slot: {
        key: slotKey,
        member: requestId,
        limits: { cap: limits.concurrentPerKey, ttlMs: slotTtlMs(approvalTimeoutSeconds) },
      },
    });
    if (!admission.admitted)
      return admission.refusedBy === 'slot'
        ? refused('key concurrency', 1000)
        : refused(admission.index === 0 ? 'key rate' : 'user rate', admission.retryAfterMs);
    this.#total++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#total--;
        // A store that fails here frees the slot at its deadline anyway.
        this.#store.releaseSlot(slotKey, requestId).catch(() => undefined);
      },
    };
  }
}

function refused(reason: Refused['reason'], retryAfterMs: number): Refused {
  return { ok: false, reason, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
}
