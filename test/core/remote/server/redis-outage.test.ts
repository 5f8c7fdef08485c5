import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintValetToken } from '../../../support/minted-tokens.ts';
import { startRedisServer, type TestRedis } from '../../../support/redis-server.ts';
import {
  rawRequest,
  startTestRemote,
  tempDir,
  type TestRemote,
  offlineRemoteEnv,
} from '../../../support/remote-server.ts';

const TID = '11111111-1111-1111-1111-111111111111';
const USER = {
  oid: '00000000-0000-0000-0000-0000000000d0',
  tid: TID,
  homeAccountId: `00000000-0000-0000-0000-0000000000d0.${TID}`,
  username: 'dana@contoso.example',
};
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

describe('the team server while Redis is away', () => {
  let redis: TestRedis;
  let dir: { dir: string; remove: () => Promise<void> };
  let remote: TestRemote;

  beforeAll(async () => {
    redis = await startRedisServer();
    dir = await tempDir();
    remote = await startTestRemote(
      {
        ...(await offlineRemoteEnv(dir.dir)),
        VALET_REDIS_URL: redis.url,
        VALET_CACHE_KEY: Buffer.alloc(32, 3).toString('base64'),
      },
      { dir: dir.dir },
    );
  });

  afterAll(async () => {
    await remote?.close();
    await dir?.remove();
    await redis?.close();
  });

  /** A valet key of USER and an access token of it, written through the server's own store. */
  async function mintToken(): Promise<string> {
    const minted = await mintValetToken(remote.server.store, remote.publicUrl, USER, {
      name: 'Outage client',
    });
    return minted.token;
  }

  const list = (token: string) =>
    rawRequest(`${remote.publicUrl}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: LIST,
    });

  it('answers /mcp with 503 and Retry-After, fails /readyz, stays up, and serves again by itself once Redis is back', async () => {
    const token = await mintToken();
    expect((await list(token)).status).toBe(200);

    await redis.stop();
    const refused = await list(token);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toContain('cannot reach its shared store');
    expect(refused.body).not.toContain(token);
    expect((await rawRequest(`${remote.publicUrl}/readyz`)).status).toBe(503);
    expect((await rawRequest(`${remote.publicUrl}/healthz`)).status).toBe(200);

    await redis.start();
    await expect
      .poll(async () => (await rawRequest(`${remote.publicUrl}/readyz`)).status, {
        timeout: 10_000,
      })
      .toBe(200);
    // This Redis keeps nothing across a restart, so the old token is gone: a fresh one works.
    expect((await list(await mintToken())).status).toBe(200);
  });
});
