import type { RateLimits } from '../../policy/policy-schema.ts';
import type { AdmitCheck, SharedStore } from '../store/shared-store.ts';

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

/**
 * A request whose checks failed in the store (its token or key gone or revoked since it was
 * read): nothing was counted, and the request is refused as unauthorised.
 */
export interface Unverified {
  ok: false;
  reason: 'token';
}

/** Who a request is counted against: its valet key (or Entra client) and that key's user. */
export interface AdmissionSubject {
  keyId: string;
  oid: string;
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

  /**
   * Counts one request against its key and user. With `checks`, the store counts it only if
   * they all hold (the request's token and key still live): admission can then go out with
   * the reads that verify the request, in the same round trip, and never counts a request
   * those reads would refuse.
   */
  async admit(
    subject: AdmissionSubject,
    requestId: string,
    limits: RateLimits,
    approvalTimeoutSeconds: number,
    checks?: readonly AdmitCheck[],
  ): Promise<Admitted | Refused | Unverified> {
    // This instance's own cap first: a full server takes nothing from the shared limits.
    if (this.#total >= limits.concurrentTotal) return refused('server concurrency', 1000);
    const bucket = { ratePerSecond: limits.requestsPerMinute / 60, burst: limits.burst };
    const key = subject.keyId;
    const slotKey = `inflight:${key}`;
    // The key's bucket, the user's, then a slot: one round trip to the store.
    const admission = await this.#store.admit({
      ...(checks ? { checks } : {}),
      buckets: [
        { key: `rl:${key}`, bucket },
        { key: `rl:user:${subject.oid}`, bucket },
      ],
      slot: {
        key: slotKey,
        member: requestId,
        limits: { cap: limits.concurrentPerKey, ttlMs: slotTtlMs(approvalTimeoutSeconds) },
      },
    });
    if (!admission.admitted) {
      if (admission.refusedBy === 'check') return { ok: false, reason: 'token' };
      return admission.refusedBy === 'slot'
        ? refused('key concurrency', 1000)
        : refused(admission.index === 0 ? 'key rate' : 'user rate', admission.retryAfterMs);
    }
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
