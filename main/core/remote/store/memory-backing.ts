import { ValetError } from '../../util/valet-error.ts';
import type { MessageListener, StreamEntry } from './shared-store.ts';

/** A stream: its entries, oldest first, and the last ID it gave (kept when entries are trimmed). */
export interface MemoryStream {
  entries: StreamEntry[];
  lastMs: number;
  lastSeq: number;
}

/** One key of the memory store: its type, its value and when it expires (Infinity: never). */
export type MemoryEntry =
  | { kind: 'string'; value: string; expiresAt: number }
  | { kind: 'hash'; value: Map<string, string>; expiresAt: number }
  | { kind: 'set'; value: Set<string>; expiresAt: number }
  | { kind: 'zset'; value: Map<string, number>; expiresAt: number }
  | { kind: 'stream'; value: MemoryStream; expiresAt: number };

/** The kinds of key. */
export type MemoryKind = MemoryEntry['kind'];
/** The kinds of key that hold fields or members, which go one by one. */
export type CollectionKind = 'hash' | 'set' | 'zset';
/** The entry of one kind. */
export type MemoryEntryOf<K extends MemoryKind> = Extract<MemoryEntry, { kind: K }>;

/** A subscription: its own object, so one listener subscribed twice is two subscriptions. */
export interface MemorySubscription {
  readonly listener: MessageListener;
}

// What a key that was removed or expired holds until the sweep. Removing is a write in place:
// a V8 Map keeps each deleted entry in its bucket's chain until it rehashes, so deleting and
// re-adding one hot key (a lock, a slot set) makes every lookup of it walk a longer chain.
const GONE: MemoryEntry = Object.freeze({ kind: 'string', value: '', expiresAt: -Infinity });

/**
 * What a memory store holds: keys (with full, prefixed names) and channel subscriptions. Stores
 * made over one backing see one another's writes and messages, as instances over one Redis do;
 * they should share one clock too.
 */
export class MemoryBacking {
  readonly #entries = new Map<string, MemoryEntry>();
  readonly #channels = new Map<string, Set<MemorySubscription>>();

  /** How many keys the map holds, counting removed and expired ones the sweep has not dropped. */
  get size(): number {
    return this.#entries.size;
  }

  /** The entry at `key`, or undefined; an expired one is dropped here (its value freed) and never returned. */
  read(key: string, now: number): MemoryEntry | undefined {
    const entry = this.#entries.get(key);
    if (!entry || entry.expiresAt > now) return entry;
    this.delete(key);
    return undefined;
  }

  /** As `read`, for a key that must hold `kind`: a key of another kind is an error, as in Redis. */
  readAs<K extends MemoryKind>(key: string, kind: K, now: number): MemoryEntryOf<K> | undefined {
    const entry = this.read(key, now);
    if (entry && entry.kind !== kind)
      throw new ValetError(
        'store-wrong-type',
        `A store key holds a ${entry.kind}, but this operation works on a ${kind}: give each kind of record its own key name.`,
      );
    return entry as MemoryEntryOf<K> | undefined;
  }

  /**
   * The collection at `key`, made empty (never expiring) when there is none; its expiry moves to
   * `expiresAt` when one is given.
   */
  readOrCreate<K extends CollectionKind>(
    key: string,
    kind: K,
    now: number,
    expiresAt?: number,
  ): MemoryEntryOf<K> {
    let entry: MemoryEntry | undefined = this.readAs(key, kind, now);
    if (!entry) {
      const value = kind === 'set' ? new Set<string>() : new Map<string, string | number>();
      entry = { kind, value, expiresAt: Infinity } as MemoryEntry;
      this.#entries.set(key, entry);
    }
    if (expiresAt !== undefined) entry.expiresAt = expiresAt;
    return entry as MemoryEntryOf<K>;
  }

  /** Removes fields or members of the collection at `key`; the key goes with its last one. */
  remove(key: string, kind: CollectionKind, items: readonly string[], now: number) {
    const entry = this.readAs(key, kind, now);
    if (!entry) return 0;
    let removed = 0;
    for (const item of items) if (entry.value.delete(item)) removed++;
    if (entry.value.size === 0) this.delete(key);
    return removed;
  }

  /** Puts `entry` at `key`, replacing whatever was there. */
  write(key: string, entry: MemoryEntry): void {
    this.#entries.set(key, entry);
  }

  /** Removes `key`: its value is freed at once, its name when the sweep runs. */
  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry && entry !== GONE) this.#entries.set(key, GONE);
  }

  /** Drops every expired or removed key from the map; how many went. */
  sweep(now: number): number {
    let dropped = 0;
    for (const [key, entry] of this.#entries)
      if (entry.expiresAt <= now) {
        this.#entries.delete(key);
        dropped++;
      }
    return dropped;
  }

  /** Adds a subscription to `channel`. */
  subscribe(channel: string, subscription: MemorySubscription): void {
    let subscriptions = this.#channels.get(channel);
    if (!subscriptions) this.#channels.set(channel, (subscriptions = new Set()));
    subscriptions.add(subscription);
  }

  /** Removes a subscription from `channel`; the channel goes with its last one. */
  unsubscribe(channel: string, subscription: MemorySubscription): void {
    const subscriptions = this.#channels.get(channel);
    if (!subscriptions?.delete(subscription)) return;
    if (subscriptions.size === 0) this.#channels.delete(channel);
  }

  /** Whether `subscription` is still on `channel`. */
  isSubscribed(channel: string, subscription: MemorySubscription): boolean {
    return this.#channels.get(channel)?.has(subscription) ?? false;
  }

  /** The subscriptions of `channel` at this moment. */
  subscriptions(channel: string): MemorySubscription[] {
    return [...(this.#channels.get(channel) ?? [])];
  }
}
