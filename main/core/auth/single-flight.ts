/**
 * Runs at most one operation per key at a time: callers that arrive while one is in flight
 * share its result. Used so that twenty concurrent tool calls needing the same token make
 * one token request.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  run(key: string, operation: () => Promise<T>): Promise<T> {
    const existing = this.#inFlight.get(key);
    if (existing) return existing;
    const started = operation().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return started;
  }

  /** How many distinct operations are running now. */
  get size(): number {
    return this.#inFlight.size;
  }
}
