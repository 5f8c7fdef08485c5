import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEventDto, StatusDto } from '../../../preload/contract.ts';
import { createAppApi } from '../../../main/core/app/app-api.ts';
import { NOT_NEEDED_IN_DEMO, StatusModel } from '../../../main/core/app/status-model.ts';
import { ValetCore } from '../../../main/core/app/valet-core.ts';
import { loadConfig } from '../../../main/core/config/load-config.ts';
import { sendMailApproval } from '../../support/approval-request.ts';

let core: ValetCore | undefined;
afterEach(async () => {
  await core?.close();
  core = undefined;
});

/** A core of its own (nobody signs in, so no identity provider is needed), not serving yet. */
async function newCore(extra: Record<string, string> = {}): Promise<ValetCore> {
  const env = {
    ...extra,
    VALET_DATA_DIR: await mkdtemp(join(tmpdir(), 'valet-status-')),
    VALET_CLIENT_ID: '11111111-2222-4333-8444-555555555555',
    VALET_AUTHORITY: 'https://127.0.0.1:9/contoso',
    VALET_BROKER: 'off',
    VALET_PORT: '0',
  };
  core = await ValetCore.create({ config: await loadConfig(env), env });
  return core;
}

/** The snapshots a model sends, and how often it read the accounts from MSAL. */
function follow(model: StatusModel, of: ValetCore) {
  const sent: StatusDto[] = [];
  model.on('changed', (s) => sent.push(s));
  const reads = { count: 0 };
  const overview = of.auth.overview.bind(of.auth);
  of.auth.overview = () => {
    reads.count++;
    return overview();
  };
  return { sent, reads };
}

async function until<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the status model', () => {
  it('sends the endpoint as it starts and as it stops, to the window too', async () => {
    const c = await newCore();
    const events: AppEventDto[] = [];
    createAppApi(c).subscribe((e) => events.push(e));
    const model = new StatusModel(c, { debounceMs: 5 });
    const { sent } = follow(model, c);
    expect((await model.current()).endpoint).toEqual({ url: null, running: false });

    const endpoint = await c.startEndpoint();
    await until('the started endpoint', () => sent.at(-1)?.endpoint.running);
    expect(sent.at(-1)!.endpoint).toEqual({ url: endpoint.url, running: true });
    expect((await model.current()).endpoint.url).toBe(endpoint.url);
    await until('the window to hear of it', () =>
      events.some((e) => e.type === 'status-changed' && e.status.endpoint.running),
    );

    await c.close();
    core = undefined;
    await until('the stopped endpoint', () => sent.at(-1)?.endpoint.running === false);
    expect(sent.at(-1)!.endpoint).toEqual({ url: null, running: false });
    model.close();
  });

  it('reads the accounts once for a burst of sign-in events, and sends nothing when they did not change', async () => {
    const c = await newCore();
    const model = new StatusModel(c, { debounceMs: 20 });
    await model.current();
    const { sent, reads } = follow(model, c);
    const account = {
      homeAccountId: 'adele.contoso',
      username: 'adele@contoso.test',
      name: 'Adele',
      tenantId: 'contoso',
      roles: [],
      viaBroker: false,
      active: true,
    };
    // What a sign-in emits, all at once.
    c.auth.emit('signed-in', { account, method: 'browser' });
    c.auth.emit('active-changed', { account });
    c.auth.emit('token-refreshed', { account, scopes: ['User.Read'], expiresOn: '' });
    await model.current();
    expect(reads.count).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(reads.count).toBe(1);
    // Nothing changed in the cache, so nothing new is sent.
    expect(sent).toHaveLength(0);
    model.close();
  });

  it('counts waiting approvals without reading the accounts again', async () => {
    const c = await newCore();
    const model = new StatusModel(c, { debounceMs: 5 });
    await model.current();
    const { sent, reads } = follow(model, c);
    const waiting = c.approvals.request(sendMailApproval(), 60_000);
    await until('the count', () => sent.at(-1)?.pendingApprovals === 1);
    c.approvals.decide(c.approvals.list()[0]!.id, { kind: 'deny' });
    await waiting;
    await until('the count to go', () => sent.at(-1)?.pendingApprovals === 0);
    expect(reads.count).toBe(0);
    model.close();
  });

  it.each([
    ['kept in memory', {}],
    ['in a 0600 file', { VALET_ALLOW_PLAINTEXT_CACHE: '1' }],
  ])(
    'says the broker and a token cache %s are not needed in the demo, not what is wrong with them',
    async (_how, extra) => {
      const c = await newCore(extra);
      const status = await new StatusModel(c, { demo: true }).current();
      expect(status.demo).toBe(true);
      expect(status.broker.reason).toBe(NOT_NEEDED_IN_DEMO);
      const outside = await new StatusModel(c).current();
      expect(outside.broker.reason).not.toBe(NOT_NEEDED_IN_DEMO);
      // Where a keyring works, the cache is protected and its reason says where it is.
      expect(status.cache.reason).toBe(
        status.cache.protected ? outside.cache.reason : NOT_NEEDED_IN_DEMO,
      );
      expect(outside.cache.reason).not.toBe(NOT_NEEDED_IN_DEMO);
    },
  );
});
