/**
 * A bounded memory of recent answers, each kept until its own deadline: the least recently used
 * entry goes first once `capacity` is reached, and an entry past its deadline is never returned.
 * It keeps whatever keys it is given, so callers key it by a hash, never by a secret.
 */
export class ExpiringMemo<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(capacity: number, now: () => number = Date.now) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('An expiring memo needs a capacity of at least one entry');
    this.#capacity = capacity;
    this.#now = now;
  }

  /** How many entries are held, expired ones included until they are read or pushed out. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value under `key` while its deadline is ahead; it becomes the most recently used. */
  get(key: string): V | undefined {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    this.#entries.delete(key);
    if (hit.until <= this.#now()) return undefined;
    this.#entries.set(key, hit);
    return hit.value;
  }

  /** Keeps `value` until `until` (ms since the epoch); a deadline already past keeps nothing. */
  set(key: string, value: V, until: number): void {
    this.#entries.delete(key);
    if (until <= this.#now()) return;
    this.#entries.set(key, { value, until });
    if (this.#entries.size > this.#capacity)
      this.#entries.delete(this.#entries.keys().next().value as string);
  }

  /** Forgets everything, as when what the answers depended on has changed. */
  clear(): void {
    this.#entries.clear();
  }
}
