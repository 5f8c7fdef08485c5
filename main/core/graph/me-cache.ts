import { SingleFlight } from '../auth/single-flight.ts';

/**
 * A per-account cache for `/me` with a time to live: the profile rarely changes and many
 * calls need it. Concurrent misses for one account make one request.
 */
export class MeCache<T> {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { value: T; expires: number }>();
  readonly #loads = new SingleFlight<T>();

  constructor(ttlMs = 5 * 60_000) {
    this.#ttlMs = ttlMs;
  }

  async get(accountId: string, load: () => Promise<T>): Promise<{ value: T; cached: boolean }> {
    const entry = this.#entries.get(accountId);
    if (entry && entry.expires > Date.now()) return { value: entry.value, cached: true };
    const value = await this.#loads.run(accountId, load);
    this.#entries.set(accountId, { value, expires: Date.now() + this.#ttlMs });
    return { value, cached: false };
  }

  /** Forgets an account (on sign-out) or everything. */
  clear(accountId?: string): void {
    if (accountId === undefined) this.#entries.clear();
    else this.#entries.delete(accountId);
  }
}
