import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../../main/core/audit/audit-types.ts';
import { loadConfig } from '../../../../main/core/config/load-config.ts';
import { cacheKeyOf } from '../../../../main/core/remote/cache-keys.ts';
import { createRemoteCore, type RemoteCore } from '../../../../main/core/remote/mcp/remote-core.ts';
import { openRedisStore, type RedisStore } from '../../../../main/core/remote/store/redis-store.ts';
import { auditRecords } from '../../../support/audit-records.ts';
import {
  connectAdmin,
  startRedisServer,
  type AdminClient,
  type TestRedis,
} from '../../../support/redis-server.ts';
import { recordingLogger, tempDir } from '../../../support/remote-server.ts';

const INSTANCE = 'web-2';

/** A tool call's record as the runner writes it (arguments only as sizes). */
function toolCall(n: number): AuditEvent {
  return {
    type: 'tool_call',
    actor: { keyId: 'k1', keyName: 'Laptop', oid: 'oid-1', client: 'VS Code' },
    outcome: 'allowed',
    details: { tool: 'list_messages', args: { search: { chars: 12 } }, durationMs: n },
  };
}

describe('the remote core publishing its audit records', () => {
  let redis: TestRedis;
  let admin: AdminClient;
  let dir: { dir: string; remove: () => Promise<void> };
  let store: RedisStore;
  let core: RemoteCore;
  let logger: ReturnType<typeof recordingLogger>;

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = await connectAdmin(redis);
  });
  afterAll(async () => {
    admin?.destroy();
    await redis?.close();
  });

  beforeEach(async () => {
    await admin.flushAll();
    dir = await tempDir();
    logger = recordingLogger();
    store = await openRedisStore({ url: redis.url, commandTimeoutMs: 1000 });
    const settings = { ...(await loadConfig({ VALET_DATA_DIR: dir.dir })), instanceId: INSTANCE };
    core = createRemoteCore({
      settings,
      auditDir: undefined,
      store,
      publicUrl: 'https://valet.example',
      cacheKeys: { current: cacheKeyOf(randomBytes(32)) },
      logger,
    });
  });
  afterEach(async () => {
    await core.close();
    await store.close();
    await dir.remove();
  });

  const chainCalls = async () =>
    (await auditRecords(core.audit.dir)).filter((r) => r.type === 'tool_call');
  const warnings = () => logger.lines.filter((l) => l.includes('could not be published'));

  it('with Redis stopped, every record is still written and its write resolves; one warning covers them all, and the next record after Redis is back is published with the head', async () => {
    await core.runner.audit(toolCall(1));
    await expect.poll(() => admin.xLen('mv:audit')).toBe(1);

    await redis.stop();
    try {
      for (let i = 2; i <= 21; i++) await core.runner.audit(toolCall(i));
      expect(await chainCalls()).toHaveLength(21);
      await expect.poll(() => warnings().length).toBe(1);
      expect(warnings()[0]).toMatch(
        /shared store \(.*cannot be reached.*\); they are in this instance's audit log/,
      );
    } finally {
      await redis.start();
    }
    // This Redis came back empty; the store reconnects by itself.
    await expect
      .poll(
        () =>
          store.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 5000 },
      )
      .toBe(true);
    const stamp = await core.runner.audit(toolCall(22));
    await expect.poll(() => admin.xLen('mv:audit'), { timeout: 5000 }).toBe(1);
    const head = await admin.hGetAll(`mv:audit:head:${INSTANCE}`);
    const last = (await chainCalls()).at(-1)!;
    expect(head).toEqual({ seq: String(last.seq), hash: last.hash, time: last.time });
    expect(stamp).toMatchObject({ seq: last.seq });
    expect(logger.lines.some((l) => l.includes('are published to the shared store again'))).toBe(
      true,
    );
  });

  it('a Redis that stops answering does not hold the audit write: records resolve at once while their publishing waits', async () => {
    await admin.sendCommand(['CLIENT', 'PAUSE', '3000', 'ALL']);
    const started = Date.now();
    for (let i = 1; i <= 10; i++) await core.runner.audit(toolCall(i));
    const tookMs = Date.now() - started;
    expect(await chainCalls()).toHaveLength(10);
    // Publishing is still waiting for Redis (its command timeout is 1 s).
    expect(tookMs).toBeLessThan(900);
    await expect.poll(() => warnings().length, { timeout: 5000 }).toBe(1);
  });

  it('publishes no argument of a record, only what the activity view shows', async () => {
    await core.runner.audit(toolCall(7));
    await expect.poll(() => admin.xLen('mv:audit')).toBe(1);
    const [entry] = (await admin.xRange('mv:audit', '-', '+')) ?? [];
    expect(entry?.message).toEqual({
      instance: INSTANCE,
      seq: '1',
      time: expect.any(String),
      type: 'tool_call',
      outcome: 'allowed',
      tool: 'list_messages',
      oid: 'oid-1',
      keyId: 'k1',
      keyName: 'Laptop',
      client: 'VS Code',
      durationMs: '7',
    });
  });
});
