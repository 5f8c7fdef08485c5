import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAdmin, startRedisServer, type TestRedis } from '../../../support/redis-server.ts';
import {
  startTestRemote,
  tempDir,
  type TestRemote,
  offlineRemoteEnv,
} from '../../../support/remote-server.ts';

const CACHE_KEY = Buffer.alloc(32, 9).toString('base64');
/** The SDK's limit on /register: 20 registrations an hour from one address. */
const REGISTRATIONS_PER_HOUR = 20;

describe('the authorization endpoints’ per-address limits, with the store in Redis', () => {
  let redis: TestRedis;
  const servers: TestRemote[] = [];
  const dirs: Array<{ remove: () => Promise<void> }> = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    for (const id of ['a', 'b']) {
      const dir = await tempDir();
      dirs.push(dir);
      servers.push(
        await startTestRemote(
          {
            ...(await offlineRemoteEnv(dir.dir)),
            VALET_REDIS_URL: redis.url,
            VALET_CACHE_KEY: CACHE_KEY,
            VALET_INSTANCE_ID: id,
          },
          { dir: dir.dir },
        ),
      );
    }
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    for (const dir of dirs) await dir.remove();
    await redis?.close();
  });

  const register = (server: TestRemote, i: number) =>
    fetch(`${server.publicUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: `Client ${i}`,
        redirect_uris: ['http://127.0.0.1:53682/callback'],
        token_endpoint_auth_method: 'none',
      }),
    });

  it('counts one address’s registrations across instances: after 20 alternating between them, the next is refused with 429 and Retry-After on either', async () => {
    for (let i = 0; i < REGISTRATIONS_PER_HOUR; i++) {
      const response = await register(servers[i % 2] as TestRemote, i);
      expect(response.status, `registration ${i + 1}`).toBe(201);
    }
    for (const server of servers) {
      const refused = await register(server, 99);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The count lives in Redis under the store's prefix, by endpoint and address.
    const plain = await connectAdmin(redis);
    try {
      const keys = await plain.keys('mv:rl:auth:register:*');
      expect(keys.length).toBe(1);
    } finally {
      plain.destroy();
    }
  });
});
