import { createHash } from 'node:crypto';
import {
  DistributedCachePlugin,
  type ICacheClient,
  type ICachePlugin,
  type IPartitionManager,
} from '@azure/msal-node';
import type { CacheKeys } from './cache-keys.ts';
import { open, seal, sealedWithPrevious } from './sealed-value.ts';
import type { SharedStore } from './store/shared-store.ts';

/** How long a signed-in user's token cache is kept after its last change. */
export const USER_PARTITION_TTL_MS = 90 * 24 * 3_600_000;

/** Told when a partition in the store could not be opened and was dropped (never its content). */
export type DamagedPartition = (storeKey: string, reason: string) => void;

/** The store key of a signed-in user's MSAL cache partition (auth-code sign-in). */
export function userPartitionKey(homeAccountId: string): string {
  return `msal:u:${homeAccountId}`;
}

/** The store key of an on-behalf-of partition: the hash of the incoming assertion, never the assertion. */
export function oboPartitionKey(assertion: string): string {
  return `msal:obo:${createHash('sha256').update(assertion).digest('hex')}`;
}

/** Told of each sealed value a cache client read from or wrote to the store (null: none). */
export type SealedSeen = (key: string, sealed: string | null) => void;

/**
 * MSAL's cache client over the shared store: every partition is sealed with the cache key
 * before it leaves the process, so the store never holds a readable token. A partition that
 * does not open (tampered, moved, sealed with a key this instance lacks) reads as empty and is
 * deleted, and `onDamaged` is told: the user signs in again rather than anyone getting a token
 * from a value nobody can vouch for. A partition sealed with the previous key is sealed again
 * with the current one when MSAL next writes it.
 */
export class SealedCacheClient implements ICacheClient {
  readonly #store: SharedStore;
  readonly #keys: CacheKeys;
  readonly #ttlMs: (key: string) => number;
  readonly #onDamaged: DamagedPartition;
  readonly #seen: SealedSeen;

  constructor(
    store: SharedStore,
    keys: CacheKeys,
    options: {
      ttlMs: (key: string) => number;
      onDamaged?: DamagedPartition;
      seen?: SealedSeen;
    },
  ) {
    this.#store = store;
    this.#keys = keys;
    this.#ttlMs = options.ttlMs;
    this.#onDamaged = options.onDamaged ?? (() => undefined);
    this.#seen = options.seen ?? (() => undefined);
  }

  async get(key: string): Promise<string> {
    const sealed = await this.#store.get(key);
    this.#seen(key, sealed);
    if (sealed === null) return '';
    try {
      return open(sealed, this.#keys, this.#store.key(key));
    } catch (err) {
      this.#seen(key, null);
      await this.#store.del(key);
      this.#onDamaged(this.#store.key(key), (err as Error).message);
      return '';
    }
  }

  async set(key: string, value: string): Promise<string> {
    const ttlMs = Math.max(1, Math.floor(this.#ttlMs(key)));
    const sealed = seal(value, this.#keys, this.#store.key(key));
    await this.#store.set(key, sealed, { ttlMs });
    this.#seen(key, sealed);
    return 'OK';
  }

  /** Whether the partition at `key` is still sealed with the previous key (for rotation reports). */
  async sealedWithPrevious(key: string): Promise<boolean> {
    const sealed = await this.#store.get(key);
    return sealed !== null && sealedWithPrevious(sealed, this.#keys);
  }
}

/**
 * The cache plugin of one signed-in user's MSAL client, partitioned by home account ID. Before
 * the first sign-in there is no account yet: the partition is then named by the account MSAL
 * writes, as MSAL's own plugin does.
 */
export function userCachePlugin(
  store: SharedStore,
  keys: CacheKeys,
  homeAccountId: string | undefined,
  options: { onDamaged?: DamagedPartition; seen?: SealedSeen } = {},
): ICachePlugin {
  const client = new SealedCacheClient(store, keys, {
    ttlMs: () => USER_PARTITION_TTL_MS,
    ...options,
  });
  const partitions: IPartitionManager = {
    getKey: async () => userPartitionKey(homeAccountId ?? 'none'),
    extractKey: async (account) => userPartitionKey(account.homeAccountId),
  };
  return new DistributedCachePlugin(client, partitions);
}

/**
 * The cache plugin for an on-behalf-of exchange of `assertion`, partitioned by its hash and kept
 * no longer than the assertion itself is valid (`expiresAtSeconds`, its `exp`). MSAL's
 * `acquireTokenOnBehalfOf` writes through the plugin but does not read through it: load the
 * partition first (`getTokenCache().getAllAccounts()`), as the on-behalf-of source does.
 */
export function oboCachePlugin(
  store: SharedStore,
  keys: CacheKeys,
  assertion: string,
  expiresAtSeconds: number,
  onDamaged?: DamagedPartition,
  now: () => number = Date.now,
): ICachePlugin {
  const client = new SealedCacheClient(store, keys, {
    ttlMs: () => expiresAtSeconds * 1000 - now(),
    ...(onDamaged ? { onDamaged } : {}),
  });
  const key = oboPartitionKey(assertion);
  // The partition is the assertion's, whatever account MSAL finds in it.
  const partitions: IPartitionManager = { getKey: async () => key, extractKey: async () => key };
  return new DistributedCachePlugin(client, partitions);
}
