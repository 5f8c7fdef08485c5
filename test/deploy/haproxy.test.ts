import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedisStore, type RedisStore } from '../../main/core/remote/store/redis-store.ts';
import { silentLogger } from '../../main/core/util/logger.ts';
import { auditRecords } from '../support/audit-records.ts';
import { cliEnv, spawnCli, type CliProcess } from '../support/cli.ts';
import { mintValetToken } from '../support/minted-tokens.ts';
import { startRedisServer, type TestRedis } from '../support/redis-server.ts';
import {
  OFFLINE_AUTHORITY,
  REMOTE_CLIENT_ID,
  rawRequest,
  tempDir,
  writeAuthorityMetadata,
} from '../support/remote-server.ts';

const HAPROXY = '/usr/sbin/haproxy';
const config = fileURLToPath(new URL('../../.ci/deploy/haproxy.cfg', import.meta.url));
const TID = '11111111-1111-1111-1111-111111111111';
const USER = {
  oid: '00000000-0000-0000-0000-0000000000e0',
  tid: TID,
  homeAccountId: `00000000-0000-0000-0000-0000000000e0.${TID}`,
  username: 'erin@contoso.example',
};

describe('the haproxy configuration (.ci/deploy/haproxy.cfg) in front of two instances', () => {
  let redis: TestRedis;
  let store: RedisStore;
  let lb: ChildProcess;
  let publicUrl: string;
  const instances = new Map<string, { proc: CliProcess; dir: string }>();
  const cleanup: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    if (!existsSync(HAPROXY))
      throw new Error(`${HAPROXY} is missing: apt-get install haproxy (CI installs it)`);
    redis = await startRedisServer();
    // The balancer's port is held until haproxy takes it, so no other test can take it meanwhile;
    // each instance takes a port of the system's choosing and says which.
    const held = await holdPort();
    const lbPort = held.port;
    publicUrl = `http://localhost:${lbPort}`;
    const ports: Record<string, number> = {};
    for (const id of ['a', 'b']) {
      const dir = await tempDir();
      cleanup.push(dir.remove);
      await writeFile(
        join(dir.dir, 'config.json'),
        JSON.stringify({ policy: { rateLimits: { concurrentPerKey: 4 } } }),
      );
      const proc = spawnCli(
        [
          'serve',
          '--remote',
          '--redis',
          redis.url,
          '--listen',
          '127.0.0.1:0',
          '--public-url',
          publicUrl,
          '--instance-id',
          id,
          '--trust-proxy',
          '1',
          '--json',
        ],
        cliEnv({
          VALET_DATA_DIR: dir.dir,
          VALET_CLIENT_ID: REMOTE_CLIENT_ID,
          VALET_AUTHORITY: OFFLINE_AUTHORITY,
          VALET_AUTHORITY_METADATA_FILE: await writeAuthorityMetadata(dir.dir, OFFLINE_AUTHORITY),
          VALET_CLIENT_SECRET: 'lb-test-secret',
          VALET_CACHE_KEY: Buffer.alloc(32, 4).toString('base64'),
        }),
      );
      instances.set(id, { proc, dir: dir.dir });
    }
    for (const [id, { proc }] of instances)
      ports[id] = Number(new URL(String((await proc.nextEvent('ready', 30_000)).listen)).port);
    await held.release();
    lb = spawn(HAPROXY, ['-f', config, '-db'], {
      env: {
        PATH: process.env.PATH,
        VALET_LB_BIND: `127.0.0.1:${lbPort}`,
        VALET_PUBLIC_HOST: `localhost:${lbPort}`,
        VALET_A: `127.0.0.1:${ports.a}`,
        VALET_B: `127.0.0.1:${ports.b}`,
      },
      stdio: 'ignore',
    });
    // Up once its health checks have passed on both.
    await waitFor(
      async () => (await rawRequest(`${publicUrl}/readyz`).catch(() => undefined))?.status === 200,
    );
    store = await openRedisStore({ url: redis.url, logger: silentLogger });
  }, 60_000);

  afterAll(async () => {
    lb?.kill('SIGKILL');
    for (const { proc } of instances.values()) proc.child.kill('SIGKILL');
    await store?.close();
    await redis?.close();
    for (const remove of cleanup) await remove();
  });

  /** A free loopback port, kept listening (so taken) until released. */
  async function holdPort(): Promise<{ port: number; release: () => Promise<void> }> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      release: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }

  async function waitFor(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
    for (const deadline = Date.now() + ms; !(await check());) {
      if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** A read-only key's access token, minted in the shared store as a consent would. */
  async function readOnlyToken(): Promise<string> {
    const minted = await mintValetToken(store, publicUrl, USER, {
      name: 'Balanced client',
      clientId: 'lb-client',
    });
    return minted.token;
  }

  /** A send_mail call of a read-only token: 403 step-up, which each instance audits at once. */
  const stepUp = (token: string) =>
    rawRequest(`${publicUrl}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'send_mail',
          arguments: { to: ['x@contoso.test'], subject: 's', body: 'b' },
        },
      }),
    });

  it('sends requests round robin with no stickiness: two calls of one client reach both instances, and each audits its own', async () => {
    const token = await readOnlyToken();
    expect((await stepUp(token)).status).toBe(403);
    expect((await stepUp(token)).status).toBe(403);
    for (const [id, { dir }] of instances)
      await waitFor(async () =>
        (await auditRecords(join(dir, 'audit')).catch(() => [])).some(
          (r) => r.type === 'endpoint_rejected',
        ),
      ).catch(() => {
        throw new Error(`instance ${id} served none of the two calls`);
      });
  });

  it('waits longer than the longest approval (an hour) on clients and servers, and has no sticky sessions', async () => {
    const text = await readFile(config, 'utf8');
    for (const which of ['client', 'server', 'tunnel']) {
      const [, seconds] = new RegExp(`timeout ${which} (\\d+)s`).exec(text) ?? [];
      expect(Number(seconds), which).toBeGreaterThan(3600);
    }
    expect(text).toMatch(/balance roundrobin/);
    expect(text).not.toMatch(/^\s*(cookie|stick|hash-type|balance source)\b/m);
  });

  it('stops sending to an instance that is killed, and every request then reaches the other', async () => {
    const killed = instances.get('b')?.proc;
    killed?.child.kill('SIGKILL');
    await killed?.exited;
    const token = await readOnlyToken();
    // haproxy marks it down after two failed checks, two seconds apart.
    await waitFor(async () => {
      const statuses = await Promise.all(
        [0, 1, 2, 3].map(() => stepUp(token).then((r) => r.status)),
      );
      return statuses.every((s) => s === 403);
    });
    const after = await Promise.all(
      [0, 1, 2, 3, 4, 5].map(() => stepUp(token).then((r) => r.status)),
    );
    expect(after).toEqual([403, 403, 403, 403, 403, 403]);
  }, 30_000);
});
