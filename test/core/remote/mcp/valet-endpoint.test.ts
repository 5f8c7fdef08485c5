import { writeFile } from 'node:fs/promises';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteKeys } from '../../../../main/core/remote/oauth/remote-keys.ts';
import { ValetTokens } from '../../../../main/core/remote/oauth/valet-tokens.ts';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';
import { silentLogger } from '../../../../main/core/util/logger.ts';
import {
  OFFLINE_AUTHORITY,
  REMOTE_CLIENT_ID,
  rawRequest,
  startTestRemote,
  tempDir,
  writeAuthorityMetadata,
  type TestRemote,
} from '../../../support/remote-server.ts';

const CLIENT_ID = 'offline-client';
const REDIRECT_URI = 'http://127.0.0.1:53682/callback';
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
  /** The store keys of valet keys the server read, in order. */
  const keyReads: string[] = [];
  let keys: RemoteKeys;
  let tokens: ValetTokens;

  /** A valet key of USER for the given tools, and an access token of its family. */
  async function tokenFor(tools: Array<'get_user_details' | 'send_mail'>) {
    const key = await keys.create({
      ...USER,
      name: 'Offline MCP client',
      clientId: CLIENT_ID,
      tools,
      readOnly: false,
    });
    const code = await tokens.mintCode({
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      codeChallenge: 'unused-here',
      resource: `${remote.publicUrl}/mcp`,
      keyId: key.id,
      scopes: tools.includes('send_mail') ? ['valet.read', 'valet.mail.send'] : ['valet.read'],
    });
    const minted = await tokens.exchangeCode(CLIENT_ID, code, REDIRECT_URI);
    return { key, token: minted.access_token };
  }

  function post(token: string, body: unknown) {
    return rawRequest(`${remote.publicUrl}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify(body),
    });
  }

  beforeAll(async () => {
    dir = await tempDir();
    await writeFile(
      join(dir.dir, 'config.json'),
      JSON.stringify({ policy: { rateLimits: { concurrentPerKey: 1 } } }),
    );
    store = new MemoryStore();
    const counting = new Proxy(store, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (name === 'hGetAll' && String(args[0]).startsWith('key:'))
            keyReads.push(String(args[0]));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    remote = await startTestRemote(
      {
        VALET_CLIENT_ID: REMOTE_CLIENT_ID,
        VALET_AUTHORITY: OFFLINE_AUTHORITY,
        VALET_AUTHORITY_METADATA_FILE: await writeAuthorityMetadata(dir.dir, OFFLINE_AUTHORITY),
        VALET_CLIENT_SECRET: 'not-used-offline',
      },
      { dir: dir.dir, deps: { store: counting } },
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
    keyReads.length = 0;
    const listed = await post(token, LIST);
    expect(listed.status).toBe(200);
    expect(keyReads).toEqual([`key:${key.id}`]);

    await keys.revoke(key.id);
    expect((await post(token, LIST)).status).toBe(401);
  });

  it('gives a call’s in-flight slot back when its client hangs up, so the key’s next call is admitted', async () => {
    const { token } = await tokenFor(['get_user_details', 'send_mail']);
    // send_mail waits for the user's approval, holding the key's one slot (concurrentPerKey 1).
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
    expect(await linked).toMatch(/^\/approvals\//);

    const crowded = await post(token, LIST);
    expect(crowded.status).toBe(429);

    waiting?.destroy();
    await expect.poll(async () => (await post(token, LIST)).status, { timeout: 5000 }).toBe(200);
  });
});
