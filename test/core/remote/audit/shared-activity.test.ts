import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../../main/core/audit/audit-types.ts';
import { loadConfig } from '../../../../main/core/config/load-config.ts';
import {
  readSharedActivity,
  type ActivityViewer,
  type SharedActivityItem,
} from '../../../../main/core/remote/audit/shared-activity.ts';
import { cacheKeyOf } from '../../../../main/core/remote/cache-keys.ts';
import { createRemoteCore, type RemoteCore } from '../../../../main/core/remote/mcp/remote-core.ts';
import { MemoryBacking } from '../../../../main/core/remote/store/memory-backing.ts';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';
import { silentLogger } from '../../../../main/core/util/logger.ts';
import { tempDir } from '../../../support/remote-server.ts';

const ANA = 'oid-ana';
const BEN = 'oid-ben';

/** A tool call of `oid`'s key, as the runner audits it. */
function call(oid: string, tool: string, outcome = 'allowed'): AuditEvent {
  return {
    type: 'tool_call',
    actor: { keyId: `key-${oid}`, keyName: `${oid} laptop`, oid, client: 'VS Code' },
    outcome,
    details: { tool, args: { top: 5 }, durationMs: 12.5 },
  };
}

/** Two instances over one shared store, as two servers over one Redis. */
describe('the live activity across instances', () => {
  let backing: MemoryBacking;
  const opened: Array<{ core: RemoteCore; store: MemoryStore; remove: () => Promise<void> }> = [];
  let web1: RemoteCore;
  let web2: RemoteCore;
  let reader: MemoryStore;

  async function instance(instanceId: string): Promise<RemoteCore> {
    const dir = await tempDir();
    const store = new MemoryStore({ backing });
    const core = createRemoteCore({
      settings: { ...(await loadConfig({ VALET_DATA_DIR: dir.dir })), instanceId },
      auditDir: undefined,
      store,
      publicUrl: 'https://valet.example',
      cacheKeys: { current: cacheKeyOf(randomBytes(32)) },
      logger: silentLogger,
    });
    opened.push({ core, store, remove: dir.remove });
    return core;
  }

  beforeEach(async () => {
    backing = new MemoryBacking();
    web1 = await instance('web-1');
    web2 = await instance('web-2');
    reader = new MemoryStore({ backing });
  });
  afterEach(async () => {
    for (const { core, store, remove } of opened.splice(0)) {
      await core.close();
      await store.close();
      await remove();
    }
    await reader.close();
  });

  /** Writes the events in order, alternating instances, and waits until all were published. */
  async function written(events: AuditEvent[]): Promise<void> {
    for (const [i, event] of events.entries()) await (i % 2 ? web2 : web1).runner.audit(event);
    await expect
      .poll(
        async () =>
          (await readSharedActivity(reader, { everyone: true }, { limit: 500 })).items.length,
      )
      .toBeGreaterThanOrEqual(events.length);
  }

  const summary = (items: SharedActivityItem[]) =>
    items.map((i) => `${i.instance} ${i.oid} ${i.tool} ${i.outcome}`);

  it('shows a user their own calls on every instance, newest first, and an admin everyone’s', async () => {
    await written([
      call(ANA, 'list_messages'),
      call(BEN, 'get_user_details'),
      call(ANA, 'send_mail', 'denied'),
      call(BEN, 'list_events'),
    ]);
    const ana = await readSharedActivity(reader, { oid: ANA });
    expect(summary(ana.items)).toEqual([
      'web-1 oid-ana send_mail denied',
      'web-1 oid-ana list_messages allowed',
    ]);
    expect(ana.nextBefore).toBeNull();
    expect(summary((await readSharedActivity(reader, { oid: BEN })).items)).toEqual([
      'web-2 oid-ben list_events allowed',
      'web-2 oid-ben get_user_details allowed',
    ]);
    const all = await readSharedActivity(reader, { everyone: true });
    expect(all.items).toHaveLength(4);
    expect(all.items.find((i) => i.tool === 'list_events')).toEqual({
      id: expect.stringMatching(/^\d+-\d+$/),
      instance: 'web-2',
      seq: 2,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      type: 'tool_call',
      outcome: 'allowed',
      tool: 'list_events',
      oid: BEN,
      keyId: `key-${BEN}`,
      keyName: `${BEN} laptop`,
      client: 'VS Code',
      clientId: null,
      account: null,
      durationMs: 12.5,
      reason: null,
    });
  });

  it('pages back through everything with nextBefore, each item once, and filters by type', async () => {
    const events = Array.from({ length: 23 }, (_, i) => call(i % 3 ? ANA : BEN, `tool_${i}`));
    events.push({ type: 'key_revoked', actor: { keyId: 'key-oid-ana', oid: ANA }, outcome: 'ok' });
    await written(events);
    const seen: string[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await readSharedActivity(
        reader,
        { oid: ANA },
        { limit: 4, type: 'tool_call', ...(before ? { before } : {}) },
      );
      seen.push(...page.items.map((i) => i.tool ?? ''));
      if (!page.nextBefore) break;
      before = page.nextBefore;
    }
    const expected = events
      .filter((e) => e.type === 'tool_call' && e.actor?.oid === ANA)
      .map((e) => String(e.details?.tool));
    // Every call once. Instances publish on their own, so only each one's calls keep their order.
    expect([...seen].sort()).toEqual([...expected].sort());
    const writtenBy = (tool: string) =>
      events.findIndex((e) => e.details?.tool === tool) % 2 ? 'web-2' : 'web-1';
    for (const instance of ['web-1', 'web-2']) {
      const mine = (tool: string) => writtenBy(tool) === instance;
      expect(seen.filter(mine)).toEqual(expected.filter(mine).reverse());
    }
    const revoked = await readSharedActivity(reader, { oid: ANA }, { type: 'key_revoked' });
    expect(revoked.items.map((i) => i.type)).toEqual(['key_revoked']);
  });

  it('reads a bounded number of entries per page: a user with one call behind 6,000 of others gets it on a later page', async () => {
    const entry = (oid: string, n: number) => ({
      instance: 'web-1',
      seq: String(n),
      time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
      type: 'tool_call',
      outcome: 'allowed',
      tool: 'list_messages',
      oid,
    });
    await reader.streamAdd('audit', [entry(ANA, 1)], { maxLen: 100_000 });
    for (let n = 2; n <= 6001; n += 500)
      await reader.streamAdd(
        'audit',
        Array.from({ length: 500 }, (_, i) => entry(BEN, n + i)),
        { maxLen: 100_000 },
      );
    const first = await readSharedActivity(reader, { oid: ANA });
    expect(first.items).toEqual([]);
    expect(first.nextBefore).not.toBeNull();
    const second = await readSharedActivity(reader, { oid: ANA }, { before: first.nextBefore! });
    expect(second.items.map((i) => i.seq)).toEqual([1]);
    expect(second.nextBefore).toBeNull();
  });

  it('refuses a viewer that names nobody rather than showing everyone, and a limit out of range', async () => {
    for (const viewer of [{ oid: '' }, {}, { everyone: 'yes' }] as unknown as ActivityViewer[])
      await expect(readSharedActivity(reader, viewer)).rejects.toMatchObject({
        code: 'activity-bad-query',
        message: expect.stringContaining('object ID, or everyone for an admin'),
      });
    for (const limit of [0, 501, 2.5])
      await expect(readSharedActivity(reader, { everyone: true }, { limit })).rejects.toThrow(
        /limit must be a whole number from 1 to 500/,
      );
  });
});
