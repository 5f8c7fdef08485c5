import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../main/core/audit/audit-reader.ts';
import type { AuditRecord } from '../../main/core/audit/audit-types.ts';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { auditRecords } from '../support/audit-records.ts';
import {
  accessTokenOf,
  authorizeInBrowser,
  newOAuthClient,
  openUserBrowser,
  startClusterWithBrowser,
  postMcp,
  postThroughProxy,
  rpcResult,
  toolCall,
  type BurstCall,
} from '../support/cluster-clients.ts';
import { secretsInRedis } from '../support/cluster-secrets.ts';
import type { RemoteCluster } from '../support/remote-cluster.ts';
import type { TestOAuthClient } from '../support/valet-auth-harness.ts';
import { connectAdmin } from '../support/redis-server.ts';

const [adele] = DEMO_USERS as [IdpUser];
const BURST = 500;
const CONCURRENCY = 8;
/** The burst's calls answered before A is killed. */
const KILL_AFTER = 150;

describe('faults of a scaled-out team server: Redis going away, an instance killed mid-burst', () => {
  let cluster: RemoteCluster;
  let browser: Browser;
  let oauth: TestOAuthClient;

  beforeAll(async () => {
    ({ cluster, browser } = await startClusterWithBrowser({
      // Room for the burst: the default allows 60 at once and 8 in flight per key.
      policy: {
        rateLimits: { requestsPerMinute: 100_000, burst: 10_000, concurrentPerKey: 32 },
      },
    }));
    const user = await openUserBrowser(browser);
    oauth = newOAuthClient(user, 'Burst client');
    await authorizeInBrowser(cluster, user, adele, oauth);
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.close();
  });

  const running = (name: string) => {
    const child = cluster.instance(name).process?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  };

  async function callsSucceed(instance: string) {
    const answer = await postMcp(cluster, instance, accessTokenOf(oauth), toolCall('auth_status'));
    expect(answer.status, `${instance}: ${answer.body}`).toBe(200);
    expect(rpcResult(answer).result?.isError).toBeFalsy();
  }

  it('answers /mcp with 503 and Retry-After on every instance while Redis is down, crashes none, and serves the same client again once Redis is back', async () => {
    await callsSucceed('a');
    // This Redis comes back with what it held, as one with persistence does after a restart.
    const admin = await connectAdmin(cluster.redis);
    try {
      expect(await admin.sendCommand(['SAVE'])).toBe('OK');
    } finally {
      admin.destroy();
    }
    await cluster.redis.stop();
    try {
      for (const instance of ['a', 'b']) {
        const refused = await postMcp(cluster, 'proxy', accessTokenOf(oauth), {
          method: 'tools/list',
        });
        expect(refused.status, `through the proxy, try ${instance}: ${refused.body}`).toBe(503);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        expect((await cluster.direct(instance, '/readyz')).status).toBe(503);
        expect((await cluster.direct(instance, '/healthz')).status).toBe(200);
      }
      expect(new Set(cluster.proxy.log.slice(-2).map((r) => r.instance))).toEqual(
        new Set(['a', 'b']),
      );
    } finally {
      await cluster.redis.start();
    }
    for (const instance of ['a', 'b']) {
      await expect
        .poll(async () => (await cluster.direct(instance, '/readyz')).status, { timeout: 10_000 })
        .toBe(200);
      await callsSucceed(instance);
      expect(running(instance), cluster.instance(instance).stderr).toBe(true);
    }
  });

  it('loses no audit record of a result a client received when A is killed during a burst of 500 calls, and every chain verifies', async () => {
    const token = accessTokenOf(oauth);
    const received: BurstCall[] = [];
    let next = 0;
    let killed: Promise<void> | undefined;
    const worker = async () => {
      while (next < BURST) {
        next++;
        try {
          const call = await postThroughProxy(cluster, token, toolCall('get_user_details'));
          const { result } = call.status === 200 ? rpcResult(call) : {};
          if (result && !result.isError) received.push(call);
        } catch {
          // Not received: a call in flight on A when it died, or cut off with it.
        }
        if (received.length >= KILL_AFTER) killed ??= cluster.kill('a');
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await killed;
    expect(killed, 'A was killed during the burst').toBeDefined();
    expect(received.length).toBeGreaterThan(BURST - CONCURRENCY * 2);
    expect(running('b'), cluster.instance('b').stderr).toBe(true);
    // An orchestrator starts A again; it sets aside a record torn by the kill and chains on.
    await cluster.start('a');

    const records: AuditRecord[] = [];
    for (const name of ['a', 'b'])
      records.push(
        ...(await auditRecords(
          cluster.instance(name).auditDir,
          (r) =>
            r.type === 'tool_call' &&
            r.outcome === 'allowed' &&
            r.details?.tool === 'get_user_details' &&
            r.actor?.clientId === oauth.clientInformation()?.client_id,
        )),
      );
    const unmatched = unmatchedCalls(received, records);
    expect(unmatched, `${unmatched.length} of ${received.length} received results`).toEqual([]);
    for (const name of ['a', 'b']) {
      const verified = await verifyAudit(cluster.instance(name).auditDir);
      expect(verified, `the audit chain of ${name}`).toMatchObject({ ok: true });
    }
  });

  it('leaves no JWT, refresh token, valet token, client secret or password in Redis', async () => {
    expect(await secretsInRedis(cluster, [oauth])).toEqual({});
  });
});

/**
 * The received calls no audit record accounts for. A call's record is written while it runs, so
 * its time lies between when the call was sent and when its answer arrived; each record accounts
 * for one call. Matched earliest answer first to the earliest record that fits, which pairs
 * every call that can be paired.
 */
function unmatchedCalls(calls: readonly BurstCall[], records: readonly AuditRecord[]) {
  const times = records.map((r) => Date.parse(r.time)).sort((x, y) => x - y);
  const used = new Array<boolean>(times.length).fill(false);
  const unmatched: Array<{ sentAt: string; receivedAt: string }> = [];
  for (const call of [...calls].sort((x, y) => x.receivedAt - y.receivedAt)) {
    const at = times.findIndex((t, i) => !used[i] && t >= call.sentAt && t <= call.receivedAt);
    if (at < 0)
      unmatched.push({
        sentAt: new Date(call.sentAt).toISOString(),
        receivedAt: new Date(call.receivedAt).toISOString(),
      });
    else used[at] = true;
  }
  return unmatched;
}
