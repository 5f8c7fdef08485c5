import { silentLogger, type Logger } from '../../util/logger.ts';
import {
  MemoryBacking,
  type CollectionKind,
  type MemoryEntryOf,
  type MemoryKind,
} from './memory-backing.ts';
import { acquireSlot, byScore, takeToken } from './memory-limits.ts';
import { MemoryPubSub } from './memory-pubsub.ts';
import * as streams from './memory-streams.ts';
import {
  DEFAULT_STORE_PREFIX,
  type Admission,
  type AdmitCheck,
  type AdmitRequest,
  type MessageListener,
  type ScoredMember,
  type SetOptions,
  type SharedStore,
  type SlotLimits,
  type StreamAddOptions,
  type StreamEntry,
  type TokenBucket,
  type TokenTake,
  type TtlOptions,
  type Unsubscribe,
} from './shared-store.ts';
import * as input from './store-input.ts';

/** How a MemoryStore is made; every option has a default fit for one instance. */
export interface MemoryStoreOptions {
  /** Put before every key and channel (default `mv:`). */
  prefix?: string;
  /** The clock, in epoch milliseconds; tests pass one they can move. */
  now?: () => number;
  /** What the store holds; stores given the same backing share it, as instances share Redis. */
  backing?: MemoryBacking;
  /** How often expired keys nobody reads are dropped (default 30 s). */
  sweepIntervalMs?: number;
  /** Told when a subscriber's listener throws (the channel, never the message). */
  logger?: Logger;
}

/**
 * The shared store of a single remote instance, held in this process's memory. It behaves as the
 * Redis store does (types, expiry, atomic compound operations, asynchronous pub/sub), so the code
 * above it cannot tell them apart: every operation runs to its end before another starts.
 */
export class MemoryStore implements SharedStore {
  readonly prefix: string;
  readonly #now: () => number;
  readonly #backing: MemoryBacking;
  readonly #sweep: NodeJS.Timeout;
  readonly #pubsub: MemoryPubSub;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.prefix = input.checkPrefix(options.prefix ?? DEFAULT_STORE_PREFIX);
    this.#now = options.now ?? Date.now;
    this.#backing = options.backing ?? new MemoryBacking();
    this.#pubsub = new MemoryPubSub(this.#backing, options.logger ?? silentLogger);
    const every = input.checkTtl(options.sweepIntervalMs ?? 30_000);
    // Unref'd: a store left open never keeps the process alive.
    this.#sweep = setInterval(() => this.#backing.sweep(this.#now()), every).unref();
  }

  key(name: string): string {
    return this.prefix + input.checkName(name);
  }

  async get(key: string): Promise<string | null> {
    return this.#entry(key, 'string')?.value ?? null;
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const ttlMs = input.checkOptionalTtl(options.ttlMs);
    input.checkValue(value);
    const full = this.#key(key);
    if (options.onlyIfAbsent && this.#backing.read(full, this.#now())) return false;
    this.#backing.write(full, { kind: 'string', value, expiresAt: this.#expiry(ttlMs) });
    return true;
  }

  async getDel(key: string): Promise<string | null> {
    const entry = this.#entry(key, 'string');
    if (entry) this.#backing.delete(this.#key(key));
    return entry?.value ?? null;
  }

  async delIfValue(key: string, value: string): Promise<boolean> {
    input.checkValue(value);
    const entry = this.#entry(key, 'string');
    if (entry?.value !== value) return false;
    this.#backing.delete(this.#key(key));
    return true;
  }

  async del(key: string): Promise<boolean> {
    const full = this.#key(key);
    const held = this.#backing.read(full, this.#now()) !== undefined;
    this.#backing.delete(full);
    return held;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    input.checkTtl(ttlMs);
    const entry = this.#backing.read(this.#key(key), this.#now());
    if (entry) entry.expiresAt = this.#expiry(ttlMs);
    return entry !== undefined;
  }

  async ttl(key: string): Promise<number | null> {
    const entry = this.#backing.read(this.#key(key), this.#now());
    if (!entry) return null;
    return entry.expiresAt === Infinity ? Infinity : entry.expiresAt - this.#now();
  }

  async hSet(key: string, fields: Record<string, string>, options: TtlOptions = {}): Promise<void> {
    const ttlMs = input.checkOptionalTtl(options.ttlMs);
    const pairs = Object.entries(fields).map(([f, v]) => [f, input.checkValue(v)] as const);
    if (pairs.length === 0) return;
    const entry = this.#collection(key, 'hash', ttlMs);
    for (const [field, value] of pairs) entry.value.set(field, value);
  }

  async hGet(key: string, field: string): Promise<string | null> {
    return this.#entry(key, 'hash')?.value.get(input.checkValue(field, 'field')) ?? null;
  }

  async hGetAll(key: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.#entry(key, 'hash')?.value ?? []);
  }

  async hDel(key: string, fields: readonly string[]): Promise<number> {
    return this.#remove(key, 'hash', fields);
  }

  async sAdd(key: string, members: readonly string[], options: TtlOptions = {}): Promise<number> {
    const ttlMs = input.checkOptionalTtl(options.ttlMs);
    members.forEach((m) => input.checkValue(m, 'member'));
    if (members.length === 0) return 0;
    const entry = this.#collection(key, 'set', ttlMs);
    const before = entry.value.size;
    for (const member of members) entry.value.add(member);
    return entry.value.size - before;
  }

  async sRem(key: string, members: readonly string[]): Promise<number> {
    return this.#remove(key, 'set', members);
  }

  async sMembers(key: string): Promise<string[]> {
    return [...(this.#entry(key, 'set')?.value ?? [])];
  }

  async zAdd(
    key: string,
    entries: readonly ScoredMember[],
    options: TtlOptions = {},
  ): Promise<number> {
    const ttlMs = input.checkOptionalTtl(options.ttlMs);
    for (const { member, score } of entries) {
      input.checkValue(member, 'member');
      input.checkScore(score);
    }
    if (entries.length === 0) return 0;
    const zset = this.#collection(key, 'zset', ttlMs);
    const before = zset.value.size;
    for (const { member, score } of entries) zset.value.set(member, score);
    return zset.value.size - before;
  }

  async zRem(key: string, members: readonly string[]): Promise<number> {
    return this.#remove(key, 'zset', members);
  }

  async zRangeByScore(
    key: string,
    min: number,
    max: number,
    options: { limit?: number } = {},
  ): Promise<ScoredMember[]> {
    const limit = input.checkLimit(options.limit);
    const range = byScore(this.#entry(key, 'zset'), input.checkBound(min), input.checkBound(max));
    return range.slice(0, limit);
  }

  async zRemRangeByScore(key: string, min: number, max: number): Promise<number> {
    const range = byScore(this.#entry(key, 'zset'), input.checkBound(min), input.checkBound(max));
    return this.#remove(
      key,
      'zset',
      range.map(({ member }) => member),
    );
  }

  async takeToken(key: string, bucket: TokenBucket): Promise<TokenTake> {
    const shape = input.checkBucket(bucket);
    return takeToken(this.#backing, this.#key(key), shape, this.#now());
  }

  async acquireSlot(key: string, member: string, slot: SlotLimits): Promise<boolean> {
    const limits = input.checkSlot(slot);
    input.checkValue(member, 'member');
    return acquireSlot(this.#backing, this.#key(key), member, limits, this.#now());
  }

  async admit(request: AdmitRequest): Promise<Admission> {
    const buckets = request.buckets.map(({ key, bucket }) => ({
      key: this.#key(key),
      shape: input.checkBucket(bucket),
    }));
    const checks = input.checkAdmitChecks(request.checks);
    const limits = input.checkSlot(request.slot.limits);
    input.checkValue(request.slot.member, 'member');
    const slotKey = this.#key(request.slot.key);
    // One tick from here on: atomic, as the Redis script is.
    for (const [index, check] of checks.entries())
      if (!this.#holds(check)) return { admitted: false, refusedBy: 'check', index };
    const now = this.#now();
    for (const [index, { key, shape }] of buckets.entries()) {
      const take = takeToken(this.#backing, key, shape, now);
      if (!take.allowed)
        return { admitted: false, refusedBy: 'bucket', index, retryAfterMs: take.retryAfterMs };
    }
    return acquireSlot(this.#backing, slotKey, request.slot.member, limits, now)
      ? { admitted: true }
      : { admitted: false, refusedBy: 'slot' };
  }

  async releaseSlot(key: string, member: string): Promise<boolean> {
    return this.#remove(key, 'zset', [member]) === 1;
  }

  async streamAdd(
    key: string,
    entries: readonly Record<string, string>[],
    options: StreamAddOptions,
  ): Promise<string[]> {
    const maxLen = input.checkMaxLen(options?.maxLen);
    const checked = entries.map((fields) => input.checkFields(fields));
    const full = this.#key(key);
    if (checked.length === 0) return [];
    return streams.streamAdd(this.#backing, full, checked, maxLen, this.#now());
  }

  async streamNewest(
    key: string,
    options: { count: number; before?: string },
  ): Promise<StreamEntry[]> {
    const count = input.checkCount(options?.count);
    const before = options.before === undefined ? undefined : input.checkStreamId(options.before);
    return streams.streamNewest(this.#entry(key, 'stream')?.value, count, before);
  }

  async streamAfter(
    key: string,
    options: { count: number; after?: string },
  ): Promise<StreamEntry[]> {
    const count = input.checkCount(options?.count);
    const after = options.after === undefined ? undefined : input.checkStreamId(options.after);
    return streams.streamAfter(this.#entry(key, 'stream')?.value, count, after);
  }

  async publish(channel: string, message: string): Promise<void> {
    const full = this.#key(channel);
    this.#pubsub.publish(full, input.checkValue(message, 'message'));
  }

  async subscribe(channel: string, listener: MessageListener): Promise<Unsubscribe> {
    const full = this.#key(channel);
    input.checkListener(listener);
    return this.#pubsub.subscribe(full, listener);
  }

  async ping(): Promise<void> {
    this.#open();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#pubsub.unsubscribeAll();
  }

  /** The full key of `name`, once the store is known to be open: every operation passes here. */
  #key(name: string): string {
    this.#open();
    return this.key(name);
  }

  #open(): void {
    if (this.#closed) throw input.storeClosedError();
  }

  #expiry(ttlMs: number | undefined): number {
    return ttlMs === undefined ? Infinity : this.#now() + ttlMs;
  }

  /** Whether one of admission's checks holds; a key of another type throws, as Redis errs. */
  #holds(check: AdmitCheck): boolean {
    switch (check.holds) {
      case 'key':
        return this.#backing.read(this.#key(check.key), this.#now()) !== undefined;
      case 'no-field':
        return this.#entry(check.key, 'hash')?.value.has(check.field) !== true;
      case 'member':
        return this.#entry(check.key, 'zset')?.value.has(check.member) === true;
    }
  }

  #entry<K extends MemoryKind>(key: string, kind: K): MemoryEntryOf<K> | undefined {
    return this.#backing.readAs(this.#key(key), kind, this.#now());
  }

  #collection<K extends CollectionKind>(
    key: string,
    kind: K,
    ttlMs: number | undefined,
  ): MemoryEntryOf<K> {
    const expiresAt = ttlMs === undefined ? undefined : this.#expiry(ttlMs);
    return this.#backing.readOrCreate(this.#key(key), kind, this.#now(), expiresAt);
  }

  #remove(key: string, kind: CollectionKind, items: readonly string[]): number {
    items.forEach((item) => input.checkValue(item, 'field or member'));
    return this.#backing.remove(this.#key(key), kind, items, this.#now());
  }
}
