import type { GraphThrottle } from '../graph/graph-client.ts';
import type { SharedStore } from './store/shared-store.ts';

/**
 * Graph's back-off per user shared by every instance: a 429 or 503 with Retry-After that one
 * instance gets holds that user's calls on all of them until it passes (`graph:backoff:{oid}`,
 * expiring with the wait), so a busy team does not keep hammering a throttled mailbox.
 */
export class StoreGraphThrottle implements GraphThrottle {
  readonly #store: SharedStore;

  constructor(store: SharedStore) {
    this.#store = store;
  }

  async waitMs(user: string): Promise<number> {
    const left = await this.#store.ttl(keyOf(user));
    return left === null || left === Infinity ? 0 : Math.max(0, left);
  }

  async hold(user: string, ms: number): Promise<void> {
    const key = keyOf(user);
    // A longer wait already asked for stands.
    const left = await this.#store.ttl(key);
    if (left !== null && left !== Infinity && left >= ms) return;
    await this.#store.set(key, '1', { ttlMs: Math.ceil(ms) });
  }
}

/** The key of a user's back-off, by object ID (the first part of a home account ID). */
function keyOf(user: string): string {
  return `graph:backoff:${user.split('.')[0] ?? user}`;
}
