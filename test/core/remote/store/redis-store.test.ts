import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedisStore, type RedisStore } from '../../../../main/core/remote/store/redis-store.ts';
import type { Logger } from '../../../../main/core/util/logger.ts';
import {
  connectAdmin,
  freePort,
  startRedisServer,
  type AdminClient,
  type TestRedis,
} from '../../../support/redis-server.ts';
import { expectAllRefusedAsClosed, inbox } from './contract-support.ts';
import { sharedStoreContract, type StoreHarness } from './shared-store-contract.ts';

let redis: TestRedis;
/** A plain client, to look at Redis from outside the store. */
let admin: AdminClient;

beforeAll(async () => {
  redis = await startRedisServer();
  admin = await connectAdmin(redis);
});
afterAll(async () => {
  admin?.destroy();
  await redis?.close();
});

/** Stores over the test's Redis, emptied first. */
async function redisHarness(): Promise<StoreHarness> {
  await admin.flushAll();
  const opened: RedisStore[] = [];
  return {
    async open(prefix?: string) {
      const store = await openRedisStore({ url: redis.url, prefix });
      opened.push(store);
      return store;
    },
    async close() {
      await Promise.all(opened.map((store) => store.close()));
    },
  };
}

/** A logger that keeps every line, by level. */
function recordingLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
  return { logger, lines };
}

/** Waits until `call` resolves, trying again every 50 ms, for up to `ms`. */
async function eventually<T>(call: () => Promise<T>, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${what} did not happen within ${ms} ms`, { cause: err });
      await sleep(50);
    }
  }
}

/** Resolves with how long `call` took to reject, and the error it rejected with. */
async function rejection(call: () => Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  const started = Date.now();
  try {
    await call();
  } catch (err) {
    return { ms: Date.now() - started, err };
  }
  throw new Error('the call resolved, but it should have been refused');
}

sharedStoreContract('RedisStore', redisHarness);

describe('RedisStore', () => {
  it('keeps every key under its prefix: a plain client scanning Redis finds only mv: keys', async () => {
    await admin.flushAll();
    const store = await openRedisStore({ url: redis.url });
    await store.set('at:1', 'token record', { ttlMs: 60_000 });
    await store.hSet('key:1', { name: 'laptop' });
    await store.sAdd('keys:u1', ['k1']);
    await store.zAdd('approvals:u1', [{ member: 'a1', score: 1 }]);
    await store.takeToken('rl:k1', { ratePerSecond: 1, burst: 5 });
    await store.acquireSlot('inflight:k1', 'req-1', { cap: 2, ttlMs: 60_000 });
    const keys: string[] = [];
    for await (const batch of admin.scanIterator({ MATCH: '*' })) keys.push(...batch);
    expect(keys.sort()).toEqual([
      'mv:approvals:u1',
      'mv:at:1',
      'mv:inflight:k1',
      'mv:key:1',
      'mv:keys:u1',
      'mv:rl:k1',
    ]);
    await store.close();
  });

  it('keeps a stream as a real Redis Stream under the prefix, which redis-cli XREVRANGE reads, capped with MAXLEN ~', async () => {
    await admin.flushAll();
    const store = await openRedisStore({ url: redis.url });
    for (let i = 0; i < 30; i++)
      await store.streamAdd(
        'audit',
        Array.from({ length: 100 }, (_, j) => ({ n: String(i * 100 + j), tool: 'list_messages' })),
        { maxLen: 500 },
      );
    expect(await admin.type('mv:audit')).toBe('stream');
    const length = await admin.xLen('mv:audit');
    expect(length).toBeGreaterThanOrEqual(500);
    expect(length).toBeLessThan(1000);
    const [newest] = (await admin.xRevRange('mv:audit', '+', '-', { COUNT: 1 })) ?? [];
    expect(newest?.message).toEqual({ n: '2999', tool: 'list_messages' });
    expect((await store.streamNewest('audit', { count: 1 }))[0]?.id).toBe(newest?.id);
    await store.close();
  });

  it('holds every subscription of a store on one connection of its own', async () => {
    const before = await valetConnections();
    const store = await openRedisStore({ url: redis.url });
    expect(await valetConnections()).toBe(before + 1);
    for (const channel of ['ev:approval', 'ev:revoke', 'ev:policy'])
      for (let i = 0; i < 2; i++) await store.subscribe(channel, () => {});
    expect(await valetConnections()).toBe(before + 2);
    await store.close();
  });

  it('loads every one of its scripts when it opens, so no first call waits for a NOSCRIPT reload', async () => {
    await admin.scriptFlush();
    const store = await openRedisStore({ url: redis.url });
    const scripts = Object.values(
      await import('../../../../main/core/remote/store/redis-scripts.ts'),
    ).filter((v): v is { lua: string; sha: string } => typeof v === 'object' && 'sha' in v);
    expect(scripts.length).toBeGreaterThanOrEqual(5);
    expect(await admin.scriptExists(scripts.map((s) => s.sha))).toEqual(scripts.map(() => 1));
    await store.close();
  });

  it('takeToken and acquireSlot still work after Redis forgot the scripts (SCRIPT FLUSH)', async () => {
    await admin.flushAll();
    const store = await openRedisStore({ url: redis.url });
    const bucket = { ratePerSecond: 0.01, burst: 3 };
    expect(await store.takeToken('rl:k1', bucket)).toEqual({ allowed: true, remaining: 2 });
    await admin.scriptFlush();
    expect(await store.takeToken('rl:k1', bucket)).toEqual({ allowed: true, remaining: 1 });
    await admin.scriptFlush();
    expect(await store.acquireSlot('inflight:k1', 'r1', { cap: 1, ttlMs: 60_000 })).toBe(true);
    expect(await store.acquireSlot('inflight:k1', 'r2', { cap: 1, ttlMs: 60_000 })).toBe(false);
    await store.close();
  });

  it('while Redis is down every call fails at once with store-unavailable naming host:port, not at its timeout, and nothing crashes', async () => {
    const { logger, lines } = recordingLogger();
    // A long timeout: a call that waited for Redis to come back would show here.
    const store = await openRedisStore({ url: redis.url, logger, commandTimeoutMs: 5000 });
    await store.set('at:1', 'the-stored-value');
    await store.subscribe('ev:approval', () => {});
    await redis.stop();
    try {
      const calls: Array<() => Promise<unknown>> = [
        () => store.get('at:1'),
        () => store.set('at:2', 'another-value'),
        () => store.hSet('key:1', { name: 'laptop' }, { ttlMs: 1000 }),
        () => store.takeToken('rl:k1', { ratePerSecond: 1, burst: 1 }),
        () => store.acquireSlot('inflight:k1', 'r1', { cap: 1, ttlMs: 1000 }),
        () => store.streamAdd('audit', [{ type: 'tool_call' }], { maxLen: 100 }),
        () => store.streamNewest('audit', { count: 10 }),
        () => store.publish('ev:approval', 'a1'),
        () => store.subscribe('ev:revoke', () => {}),
        () => store.ping(),
      ];
      for (const call of calls) {
        const { ms, err } = await rejection(call);
        expect(err).toMatchObject({ code: 'store-unavailable' });
        const message = (err as Error).message;
        expect(message).toContain(`Redis at 127.0.0.1:${redis.port}`);
        expect(message).toMatch(
          /cannot be reached \((not connected|connection closed)\): check that Redis is running/,
        );
        expect(message).not.toMatch(/value/);
        expect(ms).toBeLessThan(500);
      }
      // Forty calls at once: none waits in a queue for Redis to come back.
      const started = Date.now();
      const all = await Promise.allSettled(Array.from({ length: 40 }, () => store.get('at:1')));
      expect(all.every((r) => r.status === 'rejected')).toBe(true);
      expect(Date.now() - started).toBeLessThan(500);
      const warnings = lines.filter((line) => line.startsWith('warn'));
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.length).toBeLessThanOrEqual(2);
      expect(warnings[0]).toContain(`went away`);
      expect(lines.join('\n')).not.toContain('value');
    } finally {
      await redis.start();
      await store.close();
    }
  });

  it('the first subscription of a store made while Redis is down fails at once, and works once Redis is back', async () => {
    const store = await openRedisStore({ url: redis.url, commandTimeoutMs: 5000 });
    await redis.stop();
    try {
      const { ms, err } = await rejection(() => store.subscribe('ev:approval', () => {}));
      expect(err).toMatchObject({ code: 'store-unavailable' });
      expect(ms).toBeLessThan(500);
    } finally {
      await redis.start();
    }
    const box = await eventually(() => inbox(store, 'ev:approval'), 'a subscription');
    await store.publish('ev:approval', 'a1');
    expect(await box.next()).toBe('a1');
    await store.close();
  });

  it('after Redis restarts on its port the same store works again by itself, and a subscription made before the outage hears what is published after it', async () => {
    const { logger, lines } = recordingLogger();
    const store = await openRedisStore({ url: redis.url, logger, commandTimeoutMs: 1000 });
    const box = await inbox(store, 'ev:approval');
    await redis.stop();
    await expect(store.get('k')).rejects.toMatchObject({ code: 'store-unavailable' });
    await redis.start();
    await eventually(() => store.ping(), 'the store answering again');
    expect(await store.set('k', 'v')).toBe(true);
    expect(await store.get('k')).toBe('v');
    // Redis came back empty, without the scripts: they are loaded again.
    expect((await store.takeToken('rl:k1', { ratePerSecond: 1, burst: 2 })).allowed).toBe(true);
    const publisher = await openRedisStore({ url: redis.url });
    await publisher.publish('ev:approval', 'after the outage');
    expect(await box.next()).toBe('after the outage');
    expect(lines.filter((line) => line.startsWith('info'))).toEqual(
      expect.arrayContaining([expect.stringContaining('is back')]),
    );
    await publisher.close();
    await store.close();
  });

  it('a Redis that stops answering holds no call longer than the command timeout', async () => {
    const store = await openRedisStore({ url: redis.url, commandTimeoutMs: 300 });
    await admin.sendCommand(['CLIENT', 'PAUSE', '1500', 'ALL']);
    try {
      const { ms, err } = await rejection(() => store.get('k'));
      expect(err).toMatchObject({ code: 'store-unavailable' });
      expect((err as Error).message).toContain('no answer within 300 ms');
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(1000);
    } finally {
      await admin.sendCommand(['CLIENT', 'UNPAUSE']);
    }
    await eventually(() => store.get('k'), 'a call answered once Redis answers again');
    await store.close();
  });

  it('opening a rediss:// store where nothing listens fails in time, naming host:port and the fix, never the password', async () => {
    const port = await freePort();
    const url = `rediss://valet:s3cret-pass@127.0.0.1:${port}`;
    const { ms, err } = await rejection(() => openRedisStore({ url, connectTimeoutMs: 300 }));
    expect(err).toMatchObject({ code: 'store-unavailable' });
    const message = (err as Error).message;
    expect(message).toContain(`Redis at 127.0.0.1:${port}`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).toMatch(/--redis \(VALET_REDIS_URL\)/);
    expect(message).not.toContain('s3cret');
    expect(message).not.toContain('\n');
    expect(ms).toBeLessThan(3000);
  });

  it('opening a rediss:// store on a Redis without TLS fails, naming host:port, never the password', async () => {
    const url = `rediss://:s3cret-pass@127.0.0.1:${redis.port}`;
    const { err } = await rejection(() => openRedisStore({ url, connectTimeoutMs: 500 }));
    expect(err).toMatchObject({ code: 'store-unavailable' });
    const message = (err as Error).message;
    expect(message).toContain(
      `Cannot connect to the shared store (Redis at 127.0.0.1:${redis.port})`,
    );
    expect(message).not.toContain('s3cret');
  });

  it('refuses a URL that is not redis:// or rediss:// without quoting it, and a bad prefix naming VALET_REDIS_PREFIX', async () => {
    for (const url of ['http://:s3cret@127.0.0.1:6379', 'redis://:s3cret@', 'not a url s3cret']) {
      const { err } = await rejection(() => openRedisStore({ url }));
      expect(err).toMatchObject({ code: 'store-bad-input' });
      expect((err as Error).message).toMatch(/redis:\/\/host:6379/);
      expect((err as Error).message).not.toContain('s3cret');
    }
    await expect(openRedisStore({ url: redis.url, prefix: 'mv prod:' })).rejects.toThrow(
      /VALET_REDIS_PREFIX/,
    );
  });

  it('a wrong-type error never carries the value the key holds', async () => {
    const store = await openRedisStore({ url: redis.url });
    await store.set('str', 'the-secret-value');
    for (const call of [
      () => store.hGetAll('str'),
      () => store.hSet('str', { a: '1' }, { ttlMs: 1000 }),
      () => store.takeToken('str', { ratePerSecond: 1, burst: 1 }),
      () => store.acquireSlot('str', 'r1', { cap: 1, ttlMs: 1000 }),
    ]) {
      const { err } = await rejection(call);
      expect(err).toMatchObject({ code: 'store-wrong-type' });
      expect((err as Error).message).not.toContain('secret');
    }
    expect(await store.get('str')).toBe('the-secret-value');
    await store.close();
  });

  it('a hash, set or sorted-set write with ttlMs on a key of another type changes nothing there, not even its expiry', async () => {
    const store = await openRedisStore({ url: redis.url });
    await store.set('str', 'kept for ever');
    for (const call of [
      () => store.hSet('str', { a: '1' }, { ttlMs: 100 }),
      () => store.sAdd('str', ['a'], { ttlMs: 100 }),
      () => store.zAdd('str', [{ member: 'a', score: 1 }], { ttlMs: 100 }),
    ])
      await expect(call()).rejects.toMatchObject({ code: 'store-wrong-type' });
    expect(await store.ttl('str')).toBe(Infinity);
    await store.close();
  });

  it('reports a throwing listener by channel and error name, never with the message, and keeps delivering', async () => {
    const { logger, lines } = recordingLogger();
    const store = await openRedisStore({ url: redis.url, logger });
    await store.subscribe('ev:approval', (message) => JSON.parse(message));
    const box = await inbox(store, 'ev:approval');
    await store.publish('ev:approval', 'secret-body-not-json');
    await store.publish('ev:approval', 'second');
    expect([await box.next(), await box.next()]).toEqual(['secret-body-not-json', 'second']);
    const warnings = lines.filter((line) => line.startsWith('warn'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('mv:ev:approval');
    expect(warnings[0]).toContain('SyntaxError');
    expect(lines.join('\n')).not.toContain('secret-body');
    await store.close();
  });

  it('every operation after close rejects with an error that says the store is closed, and its connections are gone', async () => {
    const before = await valetConnections();
    const store = await openRedisStore({ url: redis.url });
    await store.subscribe('ev', () => {});
    await store.close();
    await expectAllRefusedAsClosed(store);
    await eventually(async () => {
      if ((await valetConnections()) !== before) throw new Error('a connection is still open');
    }, 'the store closing its connections');
  });
});

/** How many connections stores hold open in Redis right now (their client name is mcp-valet). */
async function valetConnections(): Promise<number> {
  const list = await admin.clientList();
  return list.filter((client) => client.name === 'mcp-valet').length;
}
