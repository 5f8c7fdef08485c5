import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteKeys } from '../../../../main/core/remote/oauth/remote-keys.ts';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';
import { mintValetToken } from '../../../support/minted-tokens.ts';
import { watchStore, type WatchedStore } from '../../../support/watched-store.ts';
import {
  offlineRemoteEnv,
  postMcpRequest,
  startTestRemote,
  tempDir,
  type TestRemote,
} from '../../../support/remote-server.ts';

/** A user of their own for each test: the user's allowance is shared by all their keys. */
function newUser() {
  const oid = randomUUID();
  const tid = '11111111-1111-1111-1111-111111111111';
  return { oid, tid, homeAccountId: `${oid}.${tid}`, username: `${oid}@contoso.example` };
}
/** The key's and the user's allowance: five requests, then one a minute. */
const BURST = 5;

const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
const CALL = {
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name: 'get_user_details', arguments: {} },
};
const initialize = (capabilities: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities,
    clientInfo: { name: 'probe', version: '1' },
  },
});

/**
 * A request whose token names a key this instance has verified before is checked, admitted
 * and given its reads in one round trip to the store. These tests hold that to its promises:
 * it is one round trip, and a stranger who knows only a key's ID (it is in every token of the
 * key) can neither spend the key's limits nor write anything as that key.
 */
describe('a request of a key the instance already knows', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let remote: TestRemote;
  let store: MemoryStore;
  /** The server's store, watched: its calls and when they were sent and answered. */
  let watched: WatchedStore<MemoryStore>;
  const timeline = () => watched.timeline;

  beforeAll(async () => {
    dir = await tempDir();
    await writeFile(
      join(dir.dir, 'config.json'),
      JSON.stringify({ policy: { rateLimits: { burst: BURST, requestsPerMinute: 1 } } }),
    );
    store = new MemoryStore();
    watched = watchStore(store);
    remote = await startTestRemote(await offlineRemoteEnv(dir.dir), {
      dir: dir.dir,
      deps: { store: watched.store },
    });
  });

  afterAll(async () => {
    await remote?.close();
    await dir?.remove();
  });

  async function newKey() {
    return mintValetToken(store, remote.publicUrl, newUser(), {
      name: 'Known-key client',
      tools: ['get_user_details'],
      scopes: ['valet.read'],
    });
  }

  const post = (token: string, body: unknown) =>
    postMcpRequest(`${remote.publicUrl}/mcp`, token, body);

  /** A token of the key's shape and ID, with a secret part of its own. */
  const forged = (keyId: string) => `mva_${keyId}_${randomBytes(32).toString('base64url')}`;

  /** Whether every read below was sent before the store answered any call of the request. */
  function sentBeforeAnyAnswer(reads: string[]): boolean {
    const firstAnswer = timeline().findIndex((e) => e.endsWith(' answered'));
    const sent = timeline().slice(0, firstAnswer === -1 ? undefined : firstAnswer);
    return reads.every((r) => sent.includes(`${r} sent`));
  }

  it('checks the token, admits the call and reads the user’s token cache in one round trip', async () => {
    const { token } = await newKey();
    // The first request of a key: its user is learnt from the check, then it is admitted.
    watched.timeline.length = 0;
    expect((await post(token, LIST)).status).toBe(200);
    expect(sentBeforeAnyAnswer(['get at', 'hGetAll key'])).toBe(true);
    expect(sentBeforeAnyAnswer(['admit'])).toBe(false);

    watched.timeline.length = 0;
    expect((await post(token, CALL)).status).toBe(200);
    expect(
      sentBeforeAnyAnswer(['get at', 'hGetAll key', 'admit', 'get msal', 'get mcpclient']),
    ).toBe(true);
  });

  it('does not let a stranger who knows a key’s ID spend its limits: forged tokens count nothing', async () => {
    const { token, key } = await newKey();
    expect((await post(token, LIST)).status).toBe(200);
    for (let i = 0; i < BURST * 3; i++) {
      const answer = await post(forged(key.id), CALL);
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/invalid_token/);
    }
    // The key's own allowance is untouched: the rest of its burst, then 429.
    for (let i = 1; i < BURST; i++) expect((await post(token, LIST)).status).toBe(200);
    expect((await post(token, LIST)).status).toBe(429);
  });

  it('does not let a forged token’s initialize change what the key’s client declared', async () => {
    const { token, key } = await newKey();
    expect((await post(token, initialize({}))).status).toBe(200);
    expect(await store.get(`mcpclient:${key.id}`)).toBe('none');
    const answer = await post(forged(key.id), initialize({ elicitation: { url: {} } }));
    expect(answer.status).toBe(401);
    expect(await store.get(`mcpclient:${key.id}`)).toBe('none');
  });

  it('refuses with 401, counting nothing, a key revoked between the token’s check and admission', async () => {
    const { token, key } = await newKey();
    expect((await post(token, LIST)).status).toBe(200);
    // Revoked on another instance after this one's check read the key, before admission.
    watched.holdNext('admit', async () => {
      await new RemoteKeys(store).revoke(key.id);
    });
    const answer = await post(token, CALL);
    expect((await new RemoteKeys(store).get(key.id))?.revokedAt).toBeDefined();
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    // Refused by admission's checks: the token check itself had found the key live.
    expect(JSON.parse(answer.body)).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is unknown, expired or revoked',
    });
    expect(await store.zRangeByScore(`inflight:${key.id}`, -Infinity, Infinity)).toEqual([]);
  });

  it('answers a body that is no JSON with 401 for a forged token and 400 for the key’s own', async () => {
    const { token, key } = await newKey();
    expect((await post(token, LIST)).status).toBe(200);
    expect((await post(forged(key.id), '{"jsonrpc": ')).status).toBe(401);
    expect((await post(token, '{"jsonrpc": ')).status).toBe(400);
  });

  it('gives back the slot it took early when the token check then refuses the request', async () => {
    // A live token of a live key, but issued for another server's /mcp: the SDK refuses it for
    // its resource after our check has passed it, so admission went out with that check.
    const { token, key } = await mintValetToken(store, 'https://elsewhere.example', newUser(), {
      tools: ['get_user_details'],
      scopes: ['valet.read'],
    });
    expect((await post(token, LIST)).status).toBe(401);
    watched.timeline.length = 0;
    expect((await post(token, CALL)).status).toBe(401);
    expect(timeline()).toContain('admit answered');
    await expect
      .poll(() => store.zRangeByScore(`inflight:${key.id}`, -Infinity, Infinity))
      .toEqual([]);
  });
});
