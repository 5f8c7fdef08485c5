import type { SharedStore } from '../../main/core/remote/store/shared-store.ts';

/** One call a watched store received: its method and arguments. */
export interface StoreCall {
  method: string;
  args: unknown[];
}

/** A store that records its calls, and the moments it is asked and answers. */
export interface WatchedStore<S extends SharedStore> {
  store: S;
  /** Every call, in the order it was made. */
  calls: StoreCall[];
  /**
   * `<what> sent` when a call is made and `<what> answered` (or `failed`) when it settles, in
   * order. `<what>` is `admit`, or the method and the first segment of its key: `get msal`.
   */
  timeline: string[];
  /** Holds the next call of `method` back until `first` has run, as a write elsewhere may land. */
  holdNext(method: string, first: () => Promise<void>): void;
}

/**
 * Wraps a store to watch how a server uses it: which calls it makes, and which go out before
 * any answer comes back (the calls of one round trip).
 */
export function watchStore<S extends SharedStore>(store: S): WatchedStore<S> {
  const calls: StoreCall[] = [];
  const timeline: string[] = [];
  const held = new Map<string, () => Promise<void>>();
  const watched = new Proxy(store, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      return (...args: unknown[]) => {
        calls.push({ method: name, args });
        const call = () => (value as (...a: unknown[]) => unknown).apply(target, args);
        const first = held.get(name);
        held.delete(name);
        const result = first ? Promise.resolve().then(first).then(call) : call();
        const what = typeof args[0] === 'string' ? `${name} ${args[0].split(':')[0]}` : name;
        if (result instanceof Promise) {
          timeline.push(`${what} sent`);
          void result.then(
            () => timeline.push(`${what} answered`),
            () => timeline.push(`${what} failed`),
          );
        }
        return result;
      };
    },
  });
  return {
    store: watched,
    calls,
    timeline,
    holdNext: (method, first) => void held.set(method, first),
  };
}
