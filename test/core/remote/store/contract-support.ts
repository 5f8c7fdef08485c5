import { expect } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SharedStore } from '../../../../main/core/remote/store/shared-store.ts';

/**
 * What a SharedStore implementation gives the contract suite: stores over one backing (one Redis
 * database, one memory map), and a way to move their clock when it has one.
 */
export interface StoreHarness {
  /** A new store over the harness's backing; without a prefix, the store's default one. */
  open(prefix?: string): Promise<SharedStore>;
  /** Moves the stores' clock on; absent for stores on real time, where the suite waits instead. */
  advance?(ms: number): void | Promise<void>;
  /** Closes every store it opened (some may be closed already) and frees the backing. */
  close(): Promise<void>;
}

/** What each part of the contract reads while its tests run. */
export interface ContractContext {
  /** The store of the running test (default prefix). */
  store(): SharedStore;
  /** The harness of the running test. */
  harness(): StoreHarness;
  /** Lets `ms` pass on the stores' clock: moved when it can be, waited for otherwise. */
  pass(ms: number): Promise<void>;
}

/** The messages a subscription received, and a way to wait for the next one. */
export interface Inbox {
  readonly messages: string[];
  next(): Promise<string>;
  unsubscribe(): Promise<void>;
}

/** Subscribes to `channel` and collects what arrives; `next` fails after 2 s, naming the channel. */
export async function inbox(store: SharedStore, channel: string): Promise<Inbox> {
  const messages: string[] = [];
  let read = 0;
  let wake: (() => void) | undefined;
  const unsubscribe = await store.subscribe(channel, (message) => {
    messages.push(message);
    wake?.();
  });
  return {
    messages,
    unsubscribe,
    async next() {
      const deadline = Date.now() + 2000;
      while (read >= messages.length) {
        if (Date.now() > deadline) throw new Error(`no message arrived on ${channel} within 2 s`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return messages[read++] as string;
    },
  };
}

/** Runs `count` calls of `call` at once and resolves with every result. */
export function atOnce<T>(count: number, call: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => call(i)));
}

/** Lets `ms` pass: by the harness's clock when it has one, else by waiting. */
export async function pass(harness: StoreHarness, ms: number): Promise<void> {
  if (harness.advance) await harness.advance(ms);
  else await sleep(ms);
}

/** One call of every operation of a store, for the check that a closed store refuses them all. */
export function everyOperation(store: SharedStore): Array<() => Promise<unknown>> {
  return [
    () => store.get('k'),
    () => store.set('k', 'v'),
    () => store.getDel('k'),
    () => store.del('k'),
    () => store.delIfValue('k', 'v'),
    () => store.expire('k', 10),
    () => store.ttl('k'),
    () => store.hSet('h', { a: '1' }),
    () => store.hGet('h', 'a'),
    () => store.hGetAll('h'),
    () => store.hDel('h', ['a']),
    () => store.sAdd('s', ['a']),
    () => store.sRem('s', ['a']),
    () => store.sMembers('s'),
    () => store.zAdd('z', [{ member: 'a', score: 1 }]),
    () => store.zRem('z', ['a']),
    () => store.zRangeByScore('z', 0, 1),
    () => store.zRemRangeByScore('z', 0, 1),
    () => store.takeToken('rl', { ratePerSecond: 1, burst: 1 }),
    () => store.acquireSlot('inflight', 'r', { cap: 1, ttlMs: 10 }),
    () => store.releaseSlot('inflight', 'r'),
    () =>
      store.admit({
        buckets: [{ key: 'rl', bucket: { ratePerSecond: 1, burst: 1 } }],
        slot: { key: 'inflight', member: 'r', limits: { cap: 1, ttlMs: 10 } },
      }),
    () => store.streamAdd('audit', [{ n: '1' }], { maxLen: 10 }),
    () => store.streamNewest('audit', { count: 1 }),
    () => store.streamAfter('audit', { count: 1 }),
    () => store.publish('ev', 'm'),
    () => store.subscribe('ev', () => {}),
    () => store.ping(),
  ];
}

/** Expects every operation of a closed `store` to reject, saying the store is closed. */
export async function expectAllRefusedAsClosed(store: SharedStore): Promise<void> {
  for (const call of everyOperation(store))
    await expect(call()).rejects.toThrow(/The shared store is closed.*retry on a running instance/);
}
