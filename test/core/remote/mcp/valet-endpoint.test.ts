import { readdir, writeFile } from 'node:fs/promises';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../../../main/core/audit/audit-reader.ts';
import { toolCallOf } from '../../../../main/core/mcp/call-record.ts';
import { RemoteKeys } from '../../../../main/core/remote/oauth/remote-keys.ts';
import { ValetTokens } from '../../../../main/core/remote/oauth/valet-tokens.ts';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';
import { silentLogger } from '../../../../main/core/util/logger.ts';
import { auditRecords } from '../../../support/audit-records.ts';
import { sha256Hex } from '../../../../main/core/remote/oauth/opaque-token.ts';
import { mintValetToken } from '../../../support/minted-tokens.ts';
import { watchStore, type WatchedStore } from '../../../support/watched-store.ts';
import {
  postMcpRequest,
  startTestRemote,
  tempDir,
  type TestRemote,
  offlineRemoteEnv,
} from '../../../support/remote-server.ts';

const CLIENT_ID = 'offline-client';
const USER = {
  oid: '00000000-0000-0000-0000-0000000000b0',
  tid: '11111111-1111-1111-1111-111111111111',
  homeAccountId: '00000000-0000-0000-0000-0000000000b0.11111111-1111-1111-1111-111111111111',
  username: 'bob@contoso.example',
};

const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };

describe('The valet-mode MCP endpoint, with tokens minted in its store', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let remote: TestRemote;
  let store: MemoryStore;
  /** The server's store, watched: its calls and when they were sent and answered. */
  let watched: WatchedStore<MemoryStore>;
  let keys: RemoteKeys;
  let tokens: ValetTokens;

  /** A valet key of USER for the given tools, and an access token of its family. */
  async function tokenFor(tools: Array<'get_user_details' | 'send_mail'>) {
    return mintValetToken(store, remote.publicUrl, USER, {
      name: 'Offline MCP client',
      clientId: CLIENT_ID,
      tools,
      readOnly: false,
      scopes: tools.includes('send_mail') ? ['valet.read', 'valet.mail.send'] : ['valet.read'],
    });
  }

  const post = (token: string, body: unknown) =>
    postMcpRequest(`${remote.publicUrl}/mcp`, token, body);

  /**
   * Starts a send_mail call of `token` that waits for the user's approval, holding one of the
   * key's in-flight slots; resolves once its progress message names the approval page.
   */
  async function holdSlot(token: string): Promise<{ approvalPath: string; hangUp: () => void }> {
    let waiting: ClientRequest | undefined;
    const linked = new Promise<string>((resolve, reject) => {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: {
          name: 'send_mail',
          arguments: { to: ['alex@contoso.test'], subject: 'Held', body: 'Waits' },
          _meta: { progressToken: 'p1' },
        },
      });
      const url = new URL(`${remote.publicUrl}/mcp`);
      waiting = request(
        {
          host: '127.0.0.1',
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            host: url.host,
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
        },
        (res) => {
          let seen = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            seen += chunk;
            // The progress message names the approval page once the call waits on it.
            const page = /\/approvals\/[A-Za-z0-9_-]+/.exec(seen);
            if (page) resolve(page[0]);
          });
          res.on('error', () => undefined);
        },
      );
      waiting.on('error', (err) => {
        if (!waiting?.destroyed) reject(err);
      });
      waiting.end(body);
    });
    return { approvalPath: await linked, hangUp: () => waiting?.destroy() };
  }

  beforeAll(async () => {
    dir = await tempDir();
    await writeFile(
      join(dir.dir, 'config.json'),
      JSON.stringify({ policy: { rateLimits: { concurrentPerKey: 1 } } }),
    );
    store = new MemoryStore();
    watched = watchStore(store);
    remote = await startTestRemote(
      {
        ...(await offlineRemoteEnv(dir.dir)),
        VALET_AUDIT_DIR: join(dir.dir, 'chain'),
      },
      { dir: dir.dir, deps: { store: watched.store } },
    );
    keys = new RemoteKeys(store);
    tokens = new ValetTokens({
      store,
      keys,
      logger: silentLogger,
      tokenTtlSeconds: 3600,
      refreshTtlSeconds: 7200,
    });
  });

  afterAll(async () => {
    await remote?.close();
    await dir?.remove();
  });

  it('reads the valet key of a request once, and refuses its token at once after the key is revoked', async () => {
    const { key, token } = await tokenFor(['get_user_details']);
    watched.calls.length = 0;
    const listed = await post(token, LIST);
    expect(listed.status).toBe(200);
    const keyReads = watched.calls.filter(
      (c) => c.method === 'hGetAll' && String(c.args[0]).startsWith('key:'),
    );
    expect(keyReads.map((c) => c.args[0])).toEqual([`key:${key.id}`]);

    await keys.revoke(key.id);
    expect((await post(token, LIST)).status).toBe(401);
  });

  it('reads a token and the key it names in one round trip, and refuses the token with another key ID put in', async () => {
    const { key, token } = await tokenFor(['get_user_details']);
    const other = await tokenFor(['get_user_details']);
    expect(token).toMatch(new RegExp(`^mva_${key.id}_`));
    const reads: string[] = [];
    const real = store.get.bind(store);
    const hGetAll = store.hGetAll.bind(store);
    let inFlight = 0;
    let overlapped = false;
    const watch = <T>(name: string, call: () => Promise<T>) => {
      reads.push(name);
      inFlight++;
      if (inFlight > 1) overlapped = true;
      return call().finally(() => inFlight--);
    };
    store.get = (k) => watch(`get ${k.split(':')[0]}`, () => real(k));
    store.hGetAll = (k) => watch(`hGetAll ${k.split(':')[0]}`, () => hGetAll(k));
    try {
      await tokens.verify(token);
    } finally {
      store.get = real;
      store.hGetAll = hGetAll;
    }
    expect(reads.slice(0, 2).sort()).toEqual(['get at', 'hGetAll key']);
    expect(overlapped).toBe(true);
    // The same secret part under the other key's ID is no token at all.
    const swapped = token.replace(key.id, other.key.id);
    expect((await post(swapped, LIST)).status).toBe(401);
  });

  it('refuses a token whose stored record names another key than the token does', async () => {
    const { key, token } = await tokenFor(['get_user_details']);
    const other = await tokenFor(['get_user_details']);
    // A record planted under a token that names `other`'s key, pointing at `key`.
    const planted = token.replace(key.id, other.key.id);
    const record = await store.get(`at:${sha256Hex(token)}`);
    await store.set(`at:${sha256Hex(planted)}`, record ?? '', { ttlMs: 60_000 });
    expect((await post(planted, LIST)).status).toBe(401);
    expect((await post(token, LIST)).status).toBe(200);
  });

  it('sends a tool call’s read of the user’s token cache together with its admission, not after it', async () => {
    const { token } = await tokenFor(['get_user_details']);
    const timeline = () => watched.timeline.filter((e) => /^(admit|get msal) /.test(e));
    watched.timeline.length = 0;
    await post(token, {
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'get_user_details', arguments: {} },
    });
    expect(timeline().slice(0, 2).sort()).toEqual(['admit sent', 'get msal sent']);
    // A request that calls no tool reads no token cache.
    watched.timeline.length = 0;
    await post(token, LIST);
    expect(timeline()).toEqual(['admit sent', 'admit answered']);
  });

  it('gives a call’s in-flight slot back when its client hangs up, so the key’s next call is admitted', async () => {
    const { token } = await tokenFor(['get_user_details', 'send_mail']);
    // send_mail waits for the user's approval, holding the key's one slot (concurrentPerKey 1).
    const held = await holdSlot(token);
    expect(held.approvalPath).toMatch(/^\/approvals\//);

    const crowded = await post(token, LIST);
    expect(crowded.status).toBe(429);

    held.hangUp();
    await expect.poll(async () => (await post(token, LIST)).status, { timeout: 5000 }).toBe(200);
  });

  it('writes each call’s audit record straight into VALET_AUDIT_DIR, naming the user by object ID and the client by its client ID', async () => {
    const { key, token } = await tokenFor(['get_user_details']);
    const called = await post(token, {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'get_user_details', arguments: {} },
    });
    expect(called.status).toBe(200);
    const chain = join(dir.dir, 'chain');
    await expect
      .poll(async () => (await readdir(chain)).filter((f) => f.endsWith('.jsonl')))
      .toEqual(['audit.jsonl']);
    const [record] = await auditRecords(
      chain,
      (r) => r.type === 'tool_call' && r.actor?.keyId === key.id,
    );
    expect(record?.actor).toEqual({
      keyId: key.id,
      keyName: 'Offline MCP client',
      account: USER.username,
      oid: USER.oid,
      client: 'Offline MCP client',
      clientId: CLIENT_ID,
    });
    // The Activity view reads the same call back, and the chain still verifies.
    expect(toolCallOf(record!)).toMatchObject({
      tool: 'get_user_details',
      keyName: 'Offline MCP client',
      account: USER.username,
      client: 'Offline MCP client',
      clientId: CLIENT_ID,
      oid: USER.oid,
    });
    expect((await verifyAudit(chain)).ok).toBe(true);
  });

  /** The `type` records of key `keyId` in the audit chain, once their counts add up to `total`. */
  async function refusalRecords(type: string, keyId: string, total: number) {
    const chain = join(dir.dir, 'chain');
    const read = () => auditRecords(chain, (r) => r.type === type && r.actor?.keyId === keyId);
    const counted = async () =>
      (await read()).reduce((sum, r) => sum + Number(r.details?.count ?? 0), 0);
    await expect.poll(counted, { timeout: 5000 }).toBe(total);
    return read();
  }

  it('audits 403 step-ups as counts: the first at once, those within the second after it as one record', async () => {
    const { key, token } = await tokenFor(['get_user_details']);
    const send = {
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'send_mail', arguments: { to: ['x@contoso.test'], subject: 's', body: 'b' } },
    };
    for (let i = 0; i < 5; i++) expect((await post(token, send)).status).toBe(403);
    const records = await refusalRecords('endpoint_rejected', key.id, 5);
    expect(records.map((r) => r.details?.count)).toEqual([1, 4]);
    expect(records[0]).toMatchObject({
      outcome: 'rejected',
      actor: { keyId: key.id },
      details: { reason: 'insufficient_scope', status: 403, source: key.id },
    });
  });

  it('audits 429 refusals as counts per key and reason, naming the limit', async () => {
    const { key, token } = await tokenFor(['get_user_details', 'send_mail']);
    const held = await holdSlot(token);
    try {
      for (let i = 0; i < 3; i++) expect((await post(token, LIST)).status).toBe(429);
    } finally {
      held.hangUp();
    }
    const records = await refusalRecords('rate_limited', key.id, 3);
    expect(records[0]).toMatchObject({
      outcome: 'rejected',
      actor: { keyId: key.id, keyName: 'Offline MCP client' },
      details: { reason: 'key concurrency', retryAfterSeconds: 1, source: key.id, count: 1 },
    });
    expect(records.length).toBeLessThanOrEqual(2);
  });
});
