import { createClient } from 'redis';
import { silentLogger, type Logger } from '../../util/logger.ts';
import { ValetError } from '../../util/valet-error.ts';
import {
  closeClient,
  connectWatched,
  type ConnectionSettings,
  type RedisClient,
} from './redis-connection.ts';
import {
  connectError,
  isNoScript,
  redisEndpoint,
  storeError,
  unavailableError,
} from './redis-errors.ts';
import {
  ACQUIRE_SLOT,
  ADMIT,
  admissionFrom,
  DEL_IF_VALUE,
  LUA_SCRIPTS,
  TAKE_TOKEN,
  tokenTakeFrom,
  WRITE_WITH_TTL,
  type LuaScript,
} from './redis-scripts.ts';
import { RedisSubscriber } from './redis-subscriber.ts';
import {
  DEFAULT_STORE_PREFIX,
  type Admission,
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

/** How a RedisStore is opened. */
export interface RedisStoreOptions {
  /** `redis://[:password@]host[:port][/db]`, or `rediss://…` for TLS (--redis, VALET_REDIS_URL). */
  url: string;
  /** Put before every key and channel (default `mv:`, VALET_REDIS_PREFIX). */
  prefix?: string;
  /** Told when Redis goes away and comes back, and when a listener throws; never given a value. */
  logger?: Logger;
  /** How long one call may wait for Redis before it fails with store-unavailable (default 2 s). */
  commandTimeoutMs?: number;
  /** How long opening the store may try to connect before it gives up (default 10 s). */
  connectTimeoutMs?: number;
}

/** What a RedisStore is built from: a connected client and the checked options. */
export interface RedisStoreSettings {
  prefix: string;
  hostPort: string;
  logger: Logger;
  commandTimeoutMs: number;
}

// Commands waiting for a slow Redis are bounded in number as well as in time: past this many,
// calls fail at once instead of piling up in memory.
const MAX_QUEUED_COMMANDS = 10_000;

/**
 * Opens a RedisStore: connects, loads its scripts, and resolves once Redis answers. Rejects with
 * `store-bad-input` for a URL or option that cannot work, and with `store-unavailable` naming
 * host:port and the fix when Redis cannot be reached in time.
 */
export async function openRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const { url, hostPort } = redisEndpoint(options.url);
  const prefix = input.checkPrefix(options.prefix ?? DEFAULT_STORE_PREFIX);
  const commandTimeoutMs = checkTimeout(options.commandTimeoutMs ?? 2000, 'commandTimeoutMs');
  const connectTimeoutMs = checkTimeout(options.connectTimeoutMs ?? 10_000, 'connectTimeoutMs');
  const logger = options.logger ?? silentLogger;
  const client = await connectWatched(
    (socket) =>
      createClient({
        url,
        name: 'mcp-valet',
        // While Redis is away, calls fail at once rather than wait in a queue for its return.
        disableOfflineQueue: true,
        commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
        socket,
      }),
    {
      what: 'The shared store',
      hostPort,
      logger,
      connectTimeoutMs,
      failure: (reason) => connectError(hostPort, reason),
    },
  );
  const store = new RedisStore(client, { prefix, hostPort, logger, commandTimeoutMs });
  try {
    await store.loadScripts();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/**
 * The shared store of remote instances that run side by side, held in Redis. Each method is one
 * Redis command: takeToken, acquireSlot and the hash, set and sorted-set writes given an expiry
 * are Lua scripts run by EVALSHA. While Redis is away, calls fail at once, and while it is slow
 * within the command timeout, with `store-unavailable`; the connections come back by
 * themselves, subscriptions included.
 */
export class RedisStore implements SharedStore {
  readonly prefix: string;
  readonly #client: RedisClient;
  readonly #settings: RedisStoreSettings;
  readonly #subscriber: RedisSubscriber;
  #subscriberClient: Promise<RedisClient> | undefined;
  #closed = false;

  /** A store over `client`, connected; `openRedisStore` makes one and its scripts ready. */
  constructor(client: RedisClient, settings: RedisStoreSettings) {
    this.prefix = input.checkPrefix(settings.prefix);
    this.#client = client;
    this.#settings = settings;
    this.#subscriber = new RedisSubscriber({
      connection: () => this.#subscriberConnection(),
      bounded: (call) => this.#bounded(call),
      logger: settings.logger,
    });
  }

  key(name: string): string {
    return this.prefix + input.checkName(name);
  }

  /** Loads the Lua scripts into Redis; calls load them again by themselves when Redis lost them. */
  async loadScripts(): Promise<void> {
    await this.#run((c) => Promise.all(LUA_SCRIPTS.map(({ lua }) => c.scriptLoad(lua))));
  }

  async get(key: string): Promise<string | null> {
    const full = this.#key(key);
    return this.#run((c) => c.get(full));
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const ttlMs = input.checkOptionalTtl(options.ttlMs);
    input.checkValue(value);
    const full = this.#key(key);
    const reply = await this.#run((c) =>
      c.set(full, value, {
        ...(ttlMs === undefined ? {} : { expiration: { type: 'PX', value: ttlMs } as const }),
        ...(options.onlyIfAbsent ? { condition: 'NX' as const } : {}),
      }),
    );
    return reply !== null;
  }

  async getDel(key: string): Promise<string | null> {
    const full = this.#key(key);
    return this.#run((c) => c.getDel(full));
  }

  async delIfValue(key: string, value: string): Promise<boolean> {
    const full = this.#key(key);
    input.checkValue(value);
    return (await this.#script(DEL_IF_VALUE, full, [value])) === 1;
  }

  async del(key: string): Promise<boolean> {
    const full = this.#key(key);
    return (await this.#run((c) => c.del(full))) > 0;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    input.checkTtl(ttlMs);
    const full = this.#key(key);
    return (await this.#run((c) => c.pExpire(full, ttlMs))) === 1;
  }

  async ttl(key: string): Promise<number | null> {
    const full = this.#key(key);
    const left = await this.#run((c) => c.pTTL(full));
    return left === -2 ? null : left === -1 ? Infinity : left;
  }

  async hSet(key: string, fields: Record<string, string>, options: TtlOptions = {}): Promise<void> {
    const ttlMs = input.checkOptionalTtl(options.ttlMs);
    const pairs = Object.entries(fields).map(([f, v]) => [f, input.checkValue(v)] as const);
    const full = this.#key(key);
    if (pairs.length === 0) return;
    if (ttlMs !== undefined) await this.#writeWithTtl('HSET', full, ttlMs, pairs.flat());
    else await this.#run((c) => c.hSet(full, Object.fromEntries(pairs)));
  }

  async hGet(key: string, field: string): Promise<string | null> {
    input.checkValue(field, 'field');
    const full = this.#key(key);
    return this.#run((c) => c.hGet(full, field));
  }

  async hGetAll(key: string): Promise<Record<string, string>> {
    const full = this.#key(key);
    return { ...(await this.#run((c) => c.hGetAll(full))) };
  }

  async hDel(key: string, fields: readonly string[]): Promise<number> {
    fields.forEach((field) => input.checkValue(field, 'field'));
    const full = this.#key(key);
    if (fields.length === 0) return 0;
    return this.#run((c) => c.hDel(full, [...fields]));
  }

  async sAdd(key: string, members: readonly string[], options: TtlOptions = {}): Promise<number> {
    const ttlMs = input.checkOptionalTtl(options.ttlMs);
    members.forEach((member) => input.checkValue(member, 'member'));
    const full = this.#key(key);
    if (members.length === 0) return 0;
    if (ttlMs !== undefined) return this.#writeWithTtl('SADD', full, ttlMs, members);
    return this.#run((c) => c.sAdd(full, [...members]));
  }

  async sRem(key: string, members: readonly string[]): Promise<number> {
    members.forEach((member) => input.checkValue(member, 'member'));
    const full = this.#key(key);
    if (members.length === 0) return 0;
    return this.#run((c) => c.sRem(full, [...members]));
  }

  async sMembers(key: string): Promise<string[]> {
    const full = this.#key(key);
    return [...(await this.#run((c) => c.sMembers(full)))];
  }

  async zAdd(
    key: string,
    entries: readonly ScoredMember[],
    options: TtlOptions = {},
  ): Promise<number> {
    const ttlMs = input.checkOptionalTtl(options.ttlMs);
    const members = entries.map(({ member, score }) => ({
      value: input.checkValue(member, 'member'),
      score: input.checkScore(score),
    }));
    const full = this.#key(key);
    if (members.length === 0) return 0;
    if (ttlMs !== undefined) {
      const args = members.flatMap(({ value, score }) => [String(score), value]);
      return this.#writeWithTtl('ZADD', full, ttlMs, args);
    }
    return this.#run((c) => c.zAdd(full, members));
  }

  async zRem(key: string, members: readonly string[]): Promise<number> {
    members.forEach((member) => input.checkValue(member, 'member'));
    const full = this.#key(key);
    if (members.length === 0) return 0;
    return this.#run((c) => c.zRem(full, [...members]));
  }

  async zRangeByScore(
    key: string,
    min: number,
    max: number,
    options: { limit?: number } = {},
  ): Promise<ScoredMember[]> {
    const limit = input.checkLimit(options.limit);
    const [lo, hi] = [input.checkBound(min), input.checkBound(max)];
    const full = this.#key(key);
    const range = await this.#run((c) =>
      c.zRangeWithScores(full, lo, hi, {
        BY: 'SCORE',
        ...(limit === undefined ? {} : { LIMIT: { offset: 0, count: limit } }),
      }),
    );
    return range.map(({ value, score }) => ({ member: value, score }));
  }

  async zRemRangeByScore(key: string, min: number, max: number): Promise<number> {
    const [lo, hi] = [input.checkBound(min), input.checkBound(max)];
    const full = this.#key(key);
    return this.#run((c) => c.zRemRangeByScore(full, lo, hi));
  }

  async takeToken(key: string, bucket: TokenBucket): Promise<TokenTake> {
    const { ratePerSecond, burst } = input.checkBucket(bucket);
    const full = this.#key(key);
    const reply = await this.#script(TAKE_TOKEN, full, [String(ratePerSecond), String(burst)]);
    return tokenTakeFrom(reply);
  }

  async acquireSlot(key: string, member: string, slot: SlotLimits): Promise<boolean> {
    const { cap, ttlMs } = input.checkSlot(slot);
    input.checkValue(member, 'member');
    const full = this.#key(key);
    return (await this.#script(ACQUIRE_SLOT, full, [member, String(cap), String(ttlMs)])) === 1;
  }

  async admit(request: AdmitRequest): Promise<Admission> {
    const buckets = request.buckets.map(({ key, bucket }) => ({
      key: this.#key(key),
      shape: input.checkBucket(bucket),
    }));
    const checks = input.checkAdmitChecks(request.checks).map((check) => ({
      key: this.#key(check.key),
      kind: check.holds,
      arg: check.holds === 'no-field' ? check.field : check.holds === 'member' ? check.member : '',
    }));
    const { cap, ttlMs } = input.checkSlot(request.slot.limits);
    input.checkValue(request.slot.member, 'member');
    const keys = [
      ...checks.map((c) => c.key),
      ...buckets.map((b) => b.key),
      this.#key(request.slot.key),
    ];
    const args = [
      String(checks.length),
      ...checks.flatMap(({ kind, arg }) => [kind, arg]),
      String(buckets.length),
      ...buckets.flatMap(({ shape }) => [String(shape.ratePerSecond), String(shape.burst)]),
      request.slot.member,
      String(cap),
      String(ttlMs),
    ];
    return admissionFrom(await this.#script(ADMIT, keys, args));
  }

  async releaseSlot(key: string, member: string): Promise<boolean> {
    return (await this.zRem(key, [member])) === 1;
  }

  async streamAdd(
    key: string,
    entries: readonly Record<string, string>[],
    options: StreamAddOptions,
  ): Promise<string[]> {
    const threshold = input.checkMaxLen(options?.maxLen);
    const checked = entries.map((fields) => input.checkFields(fields));
    const full = this.#key(key);
    if (checked.length === 0) return [];
    const trim = { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold } } as const;
    if (checked.length === 1) return [await this.#run((c) => c.xAdd(full, '*', checked[0]!, trim))];
    return this.#run(async (c) => {
      const multi = c.multi();
      for (const fields of checked) multi.xAdd(full, '*', fields, trim);
      return (await multi.exec()).map(String);
    });
  }

  async streamNewest(
    key: string,
    options: { count: number; before?: string },
  ): Promise<StreamEntry[]> {
    const COUNT = input.checkCount(options?.count);
    const before = options.before === undefined ? '+' : `(${input.checkStreamId(options.before)}`;
    const full = this.#key(key);
    return entriesOf(await this.#run((c) => c.xRevRange(full, before, '-', { COUNT })));
  }

  async streamAfter(
    key: string,
    options: { count: number; after?: string },
  ): Promise<StreamEntry[]> {
    const COUNT = input.checkCount(options?.count);
    const after = options.after === undefined ? '-' : `(${input.checkStreamId(options.after)}`;
    const full = this.#key(key);
    return entriesOf(await this.#run((c) => c.xRange(full, after, '+', { COUNT })));
  }

  async publish(channel: string, message: string): Promise<void> {
    input.checkValue(message, 'message');
    const full = this.#key(channel);
    await this.#run((c) => c.publish(full, message));
  }

  async subscribe(channel: string, listener: MessageListener): Promise<Unsubscribe> {
    input.checkListener(listener);
    const full = this.#key(channel);
    return this.#subscriber.subscribe(full, listener);
  }

  /**
   * Sends one raw Redis command, bounded like every other call, for a library that speaks
   * Redis itself (the authorization endpoints' per-address limits, `rate-limit-redis`). The
   * caller names full keys, prefix included.
   */
  sendCommand(args: string[]): Promise<unknown> {
    return this.#run((c) => c.sendCommand(args));
  }

  async ping(): Promise<void> {
    await this.#run((c) => c.ping());
    // Waiters are woken through the subscriber connection: the store is not ready without it.
    const subscriber = await this.#subscriberClient;
    if (subscriber && !subscriber.isReady)
      throw unavailableError(this.#settings.hostPort, 'subscriber not connected');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriber.clear();
    const subscriber = await this.#subscriberClient?.catch(() => undefined);
    const waitMs = this.#settings.commandTimeoutMs;
    await Promise.all([
      closeClient(this.#client, waitMs),
      ...(subscriber ? [closeClient(subscriber, waitMs)] : []),
    ]);
  }

  /** The full key of `name`, once the store is known to be open: every operation passes here. */
  #key(name: string): string {
    this.#open();
    return this.key(name);
  }

  #open(): void {
    if (this.#closed) throw input.storeClosedError();
  }

  /** Runs one call on the main connection, bounded, with the store's errors. */
  #run<T>(call: (client: RedisClient) => Promise<T>): Promise<T> {
    this.#open();
    return this.#bounded(() => call(this.#client));
  }

  /** Runs a script by EVALSHA; when Redis lost it (a restart, SCRIPT FLUSH), loads it again. */
  #script(script: LuaScript, key: string | string[], args: string[]): Promise<unknown> {
    const options = { keys: Array.isArray(key) ? key : [key], arguments: args };
    return this.#run(async (c) => {
      try {
        return await c.evalSha(script.sha, options);
      } catch (err) {
        if (!isNoScript(err)) throw err;
        return c.evalSha(await c.scriptLoad(script.lua), options);
      }
    });
  }

  /** A collection write and its expiry in one step that changes nothing if the write fails. */
  async #writeWithTtl(
    command: 'HSET' | 'SADD' | 'ZADD',
    full: string,
    ttlMs: number,
    args: readonly string[],
  ): Promise<number> {
    return Number(await this.#script(WRITE_WITH_TTL, full, [command, String(ttlMs), ...args]));
  }

  /**
   * Settles as `call` does, or fails with store-unavailable once the command timeout has passed:
   * node-redis bounds a command only until it is written, so a Redis that stops answering would
   * hold every caller for ever.
   */
  async #bounded<T>(call: () => Promise<T>): Promise<T> {
    const { commandTimeoutMs, hostPort } = this.#settings;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(unavailableError(hostPort, `no answer within ${commandTimeoutMs} ms`)),
        commandTimeoutMs,
      );
    });
    let sent: Promise<T> | undefined;
    try {
      sent = call();
      return await Promise.race([sent, late]);
    } catch (err) {
      throw this.#closed ? input.storeClosedError() : storeError(err, hostPort);
    } finally {
      clearTimeout(timer);
      // The reply of a call given up on arrives, or fails, later: nobody is waiting for it.
      sent?.catch(() => {});
    }
  }

  /** The subscriber connection, made on the first subscribe; it fails fast while Redis is away. */
  async #subscriberConnection(): Promise<RedisClient> {
    this.#open();
    const { hostPort, logger, commandTimeoutMs } = this.#settings;
    const settings: ConnectionSettings = {
      what: "The shared store's subscriber connection",
      hostPort,
      logger,
      connectTimeoutMs: commandTimeoutMs,
      // The main connection is up, so Redis should answer: one refusal means it has gone away.
      retryFirstForMs: 0,
      failure: (reason) => unavailableError(hostPort, reason),
    };
    // The main connection knows Redis is away: no need to spend the timeout finding out again.
    if (!this.#subscriberClient && !this.#client.isReady)
      throw unavailableError(hostPort, 'not connected');
    this.#subscriberClient ??= connectWatched(
      (socket) => this.#client.duplicate({ socket }),
      settings,
    ).catch((err: unknown) => {
      this.#subscriberClient = undefined;
      throw err;
    });
    const client = await this.#subscriberClient;
    if (this.#closed) {
      await closeClient(client, 0);
      throw input.storeClosedError();
    }
    if (!client.isReady) throw unavailableError(hostPort, 'not connected');
    return client;
  }
}

/** XRANGE's reply as stream entries: every field a string, as the store wrote it. */
function entriesOf(
  reply: ReadonlyArray<{ id: unknown; message: Record<string, unknown> }> | null,
): StreamEntry[] {
  return (reply ?? []).map(({ id, message }) => ({
    id: String(id),
    fields: Object.fromEntries(Object.entries(message).map(([k, v]) => [k, String(v)])),
  }));
}

function checkTimeout(ms: unknown, name: string): number {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms <= 0)
    throw new ValetError(
      'store-bad-input',
      `The Redis store's ${name} must be a whole number of milliseconds above 0.`,
    );
  return ms;
}
