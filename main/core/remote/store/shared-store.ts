/**
 * The one async interface behind which remote mode keeps every piece of state that instances
 * share: authorization-server records, valet keys, web sessions, rate limits, approvals and the
 * events that wake or invalidate other instances. It is shaped after Redis so that a Redis store
 * is a thin adapter: each method is one Redis command (or one MULTI), and each compound method
 * that must be atomic across instances is one Lua script.
 *
 * Values, hash fields and members are strings: callers serialise (JSON for records). Names given
 * to methods are key names without the prefix; the store prefixes every key and channel itself.
 * A store never logs a value, and its errors never carry one. Every store rejects the same way:
 * a ValetError `store-bad-input` for a bad argument (nothing is written), `store-wrong-type` when
 * a key holds another type than the operation works on, `store-closed` after `close()`.
 */
export interface SharedStore {
  /** The prefix put before every key and channel name (`mv:` unless configured). */
  readonly prefix: string;
  /** The full name `name` has in the backend: the prefix, then the name. */
  key(name: string): string;

  /** The string at `key`, or null when there is none (GET). */
  get(key: string): Promise<string | null>;
  /**
   * Stores a string (SET … PX … NX). Without `ttlMs` the value never expires, and an earlier
   * expiry is cleared, as Redis does. With `onlyIfAbsent` nothing is written when the key
   * exists. Resolves to whether the value was written.
   */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  /** The string at `key`, removed in the same step: only one caller ever gets it (GETDEL). */
  getDel(key: string): Promise<string | null>;
  /**
   * Removes the string at `key` only while it still holds `value`, in one step (one script):
   * a lock is released by its holder alone, never after it expired and another took it.
   * Resolves to whether it was removed.
   */
  delIfValue(key: string, value: string): Promise<boolean>;
  /** Removes the key, of any type; resolves to whether it was there (DEL). */
  del(key: string): Promise<boolean>;
  /** Makes the key expire `ttlMs` from now; false when there is no such key (PEXPIRE). */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Milliseconds left before the key expires, Infinity if it never does, null if absent (PTTL). */
  ttl(key: string): Promise<number | null>;

  /**
   * Sets hash fields (HSET). The key keeps its expiry, unless `ttlMs` is given: then it is set
   * in the same step (one script), and a key of another type is left untouched, expiry
   * included. An empty `fields` changes nothing.
   */
  hSet(key: string, fields: Record<string, string>, options?: TtlOptions): Promise<void>;
  /** One field of a hash, or null (HGET). */
  hGet(key: string, field: string): Promise<string | null>;
  /** Every field of a hash; an empty object when there is no such key (HGETALL). */
  hGetAll(key: string): Promise<Record<string, string>>;
  /** Removes fields; the key goes with its last field. Resolves to how many were there (HDEL). */
  hDel(key: string, fields: readonly string[]): Promise<number>;

  /** Adds members to a set (SADD), with an optional expiry as hSet; resolves to how many were new. */
  sAdd(key: string, members: readonly string[], options?: TtlOptions): Promise<number>;
  /** Removes members; the key goes with its last member. Resolves to how many were there (SREM). */
  sRem(key: string, members: readonly string[]): Promise<number>;
  /** The members of a set, in no particular order (SMEMBERS). */
  sMembers(key: string): Promise<string[]>;

  /** Adds or re-scores members of a sorted set (ZADD), with an optional expiry; resolves to how many were new. */
  zAdd(key: string, entries: readonly ScoredMember[], options?: TtlOptions): Promise<number>;
  /** Removes members; the key goes with its last member. Resolves to how many were there (ZREM). */
  zRem(key: string, members: readonly string[]): Promise<number>;
  /**
   * Members scored `min` ≤ score ≤ `max` (±Infinity for open ends), lowest score first, ties by
   * member (ZRANGE … BYSCORE WITHSCORES LIMIT 0 limit).
   */
  zRangeByScore(
    key: string,
    min: number,
    max: number,
    options?: { limit?: number },
  ): Promise<ScoredMember[]>;
  /** Removes members scored `min` ≤ score ≤ `max`; resolves to how many (ZREMRANGEBYSCORE). */
  zRemRangeByScore(key: string, min: number, max: number): Promise<number>;

  /**
   * Takes one token from the bucket at `key`, atomically across instances (one Lua script). A
   * bucket starts full at `burst` and refills at `ratePerSecond`, never above `burst`; it is
   * kept as a hash `{tokens, ts}` that expires once it would be full again. Time is the
   * store's own clock (Redis's TIME), so instances with skewed clocks share one bucket fairly.
   */
  takeToken(key: string, bucket: TokenBucket): Promise<TokenTake>;
  /**
   * Takes an in-flight slot at `key` for `member` (a request ID), atomically across instances
   * (one Lua script): members whose deadline has passed are dropped first, so the slots of an
   * instance that died free themselves; then the slot is refused when `cap` live members hold
   * the key. A member already holding a slot keeps it, with a new deadline. The key is a
   * sorted set (score = deadline) that expires with its last deadline.
   */
  acquireSlot(key: string, member: string, slot: SlotLimits): Promise<boolean>;
  /**
   * One request's admission in one step (one Lua script, one round trip): first the `checks`,
   * in order, which must all hold, else nothing is counted; then a token from each bucket in
   * order, then the slot, stopping at the first refusal, exactly as `takeToken` on each bucket
   * and then `acquireSlot` would one after the other. The checks let admission go out together
   * with the reads that verify a request: it counts only what those reads would accept.
   */
  admit(request: AdmitRequest): Promise<Admission>;
  /** Gives back the slot `member` holds; resolves to whether it held one (ZREM). */
  releaseSlot(key: string, member: string): Promise<boolean>;

  /**
   * Appends entries to the stream at `key`, in order, each with a new ID that sorts after every
   * ID before it, from any instance (XADD key MAXLEN ~ maxLen * …, all in one MULTI). The stream
   * is capped near `maxLen`: the newest `maxLen` entries are always kept, and older ones go a
   * batch at a time, so it may briefly hold a few more. Resolves to the new IDs; no entries
   * writes nothing. A stream never expires by itself.
   */
  streamAdd(
    key: string,
    entries: readonly Record<string, string>[],
    options: StreamAddOptions,
  ): Promise<string[]>;
  /**
   * The newest `count` entries of a stream, newest first; with `before`, only entries whose ID
   * sorts before it, so the last ID of one page fetches the next older one (XREVRANGE key
   * (before - COUNT count). An absent stream reads as empty.
   */
  streamNewest(key: string, options: { count: number; before?: string }): Promise<StreamEntry[]>;
  /**
   * The oldest `count` entries of a stream, oldest first; with `after`, only entries whose ID
   * sorts after it, so a reader that keeps the last ID it saw gets only what was added since
   * (XRANGE key (after + COUNT count). An absent stream reads as empty.
   */
  streamAfter(key: string, options: { count: number; after?: string }): Promise<StreamEntry[]>;

  /**
   * Sends `message` to every subscriber of `channel` on any instance (PUBLISH). Delivery is
   * asynchronous and at most once: no listener runs inside the call to publish, and a
   * subscriber that is not listening at that moment misses it, so waiters re-read the record.
   */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Calls `listener` with each message published on `channel` from when this resolves
   * (SUBSCRIBE, on its own connection for Redis). A listener that throws stops neither the
   * other listeners nor later messages. Resolves to the function that unsubscribes; once that
   * resolves, the listener is not called again.
   */
  subscribe(channel: string, listener: MessageListener): Promise<Unsubscribe>;

  /** Resolves when the backend answers (PING); rejects when it cannot be reached. */
  ping(): Promise<void>;
  /**
   * Stops the store: subscriptions end, timers stop, connections close. Every later call
   * rejects with a ValetError `store-closed`. Closing twice is harmless.
   */
  close(): Promise<void>;
}

/** Options of `SharedStore.set`. */
export interface SetOptions {
  /** Expire after this many milliseconds (a positive integer). */
  ttlMs?: number;
  /** Write only when the key does not exist (SET NX): locks, first-writer-wins records. */
  onlyIfAbsent?: boolean;
}

/** An optional expiry for the hash, set and sorted-set writes. */
export interface TtlOptions {
  /** Expire the whole key after this many milliseconds (a positive integer). */
  ttlMs?: number;
}

/** A member of a sorted set with its score. */
export interface ScoredMember {
  member: string;
  score: number;
}

/** Options of `SharedStore.streamAdd`. */
export interface StreamAddOptions {
  /** Keep about this many of the newest entries (MAXLEN ~): a whole number of at least 1. */
  maxLen: number;
}

/** One entry of a stream: its ID (`<milliseconds>-<number>`, growing) and its fields. */
export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

/** The shape of a token bucket: `burst` tokens at most, refilled at `ratePerSecond`. */
export interface TokenBucket {
  ratePerSecond: number;
  burst: number;
}

/** The answer of `takeToken`: allowed with the whole tokens left, or refused with when to retry. */
export type TokenTake =
  { allowed: true; remaining: number } | { allowed: false; retryAfterMs: number };

/** The limits of `acquireSlot`: at most `cap` live slots, each held for `ttlMs` at most. */
export interface SlotLimits {
  cap: number;
  ttlMs: number;
}

/**
 * A condition on the store that `admit` must find true before it counts anything: the key
 * exists; the hash at the key has no such field (an absent key has none); the sorted set at
 * the key holds the member. A key of another type than the check reads is `store-wrong-type`.
 */
export type AdmitCheck =
  | { key: string; holds: 'key' }
  | { key: string; holds: 'no-field'; field: string }
  | { key: string; holds: 'member'; member: string };

/** What `admit` takes: the checks, the buckets in the order they are asked, then the slot. */
export interface AdmitRequest {
  checks?: readonly AdmitCheck[];
  buckets: ReadonlyArray<{ key: string; bucket: TokenBucket }>;
  slot: { key: string; member: string; limits: SlotLimits };
}

/**
 * The answer of `admit`: let in, or refused by the check at `index` (nothing counted), by the
 * bucket at `index` or by the slot.
 */
export type Admission =
  | { admitted: true }
  | { admitted: false; refusedBy: 'check'; index: number }
  | { admitted: false; refusedBy: 'bucket'; index: number; retryAfterMs: number }
  | { admitted: false; refusedBy: 'slot' };

/** Receives one published message. */
export type MessageListener = (message: string) => void;

/** Ends a subscription. */
export type Unsubscribe = () => Promise<void>;

/** The prefix of every key and channel unless configured (VALET_REDIS_PREFIX). */
export const DEFAULT_STORE_PREFIX = 'mv:';
