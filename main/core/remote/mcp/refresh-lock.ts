import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SharedStore } from '../store/shared-store.ts';

/** How long a refresh lock lasts at most: an instance that dies holding one frees it by then. */
export const REFRESH_LOCK_TTL_MS = 10_000;

/** The store key of the lock around refreshes of a token cache partition (`msal:u:<id>`). */
export function refreshLockKey(partition: string): string {
  return `lock:${partition}`;
}

/** A refresh lock this instance holds. */
export interface HeldRefreshLock {
  /** Gives the lock back, if it is still this holder's; never fails the call that held it. */
  release(): Promise<void>;
}

/** Settings of RefreshLocks. */
export interface RefreshLocksOptions {
  store: SharedStore;
  /** How long a lock lasts at most (REFRESH_LOCK_TTL_MS). */
  ttlMs?: number;
  /** How often a waiter looks whether the lock is free. */
  pollMs?: number;
  /** A monotonic clock in milliseconds. */
  now?: () => number;
}

/**
 * Locks in the shared store that make a user's token refresh single-flight across instances:
 * the instance that takes a partition's lock (SET NX PX) refreshes and writes the partition;
 * the others wait for the lock to go, then read the partition again and find the new token. A
 * lock is deleted only by its holder: each lock carries a value of its own, compared and deleted
 * in one step.
 */
export class RefreshLocks {
  readonly #store: SharedStore;
  readonly #ttlMs: number;
  readonly #pollMs: number;
  readonly #now: () => number;

  constructor(options: RefreshLocksOptions) {
    this.#store = options.store;
    this.#ttlMs = options.ttlMs ?? REFRESH_LOCK_TTL_MS;
    this.#pollMs = options.pollMs ?? 20;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Takes the lock of `partition`; undefined when another holder has it. */
  async take(partition: string): Promise<HeldRefreshLock | undefined> {
    const key = refreshLockKey(partition);
    const owner = randomBytes(16).toString('base64url');
    if (!(await this.#store.set(key, owner, { ttlMs: this.#ttlMs, onlyIfAbsent: true })))
      return undefined;
    return {
      release: async () => {
        try {
          // Compare and delete in one step: a lock that expired and was taken is not ours.
          await this.#store.delIfValue(key, owner);
        } catch {
          // A lock that cannot be deleted expires by itself; the token is refreshed already.
        }
      },
    };
  }

  /** Resolves once nobody holds the lock of `partition`, or once a lock's lifetime has passed. */
  async waitFree(partition: string): Promise<void> {
    const key = refreshLockKey(partition);
    const deadline = this.#now() + this.#ttlMs;
    while ((await this.#store.get(key)) !== null && this.#now() < deadline)
      await sleep(this.#pollMs);
  }
}
