import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { runCli } from '../support/cli.ts';
import {
  accessTokenOf,
  authorizeInBrowser,
  newOAuthClient,
  openUserBrowser,
  startClusterWithBrowser,
  postMcp,
  rpcResult,
  toolCall,
  type UserBrowser,
} from '../support/cluster-clients.ts';
import type { RemoteCluster } from '../support/remote-cluster.ts';
import { secretsInRedis } from '../support/cluster-secrets.ts';
import type { TestOAuthClient } from '../support/valet-auth-harness.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];

describe('two instances behind a round-robin proxy share sign-ins, keys and limits through Redis', () => {
  let cluster: RemoteCluster;
  let browser: Browser;
  let adeleBrowser: UserBrowser;
  let alexBrowser: UserBrowser;
  const clients: TestOAuthClient[] = [];
  /** Adele's client, authorized across both instances. */
  let split: TestOAuthClient;
  /** Alex's client, authorized on A only. */
  let onA: TestOAuthClient;

  beforeAll(async () => {
    ({ cluster, browser } = await startClusterWithBrowser());
    adeleBrowser = await openUserBrowser(browser);
    alexBrowser = await openUserBrowser(browser);
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.close();
  });

  it('signs a user in with /authorize served by A and /auth/callback by B, and the token then works on both', async () => {
    cluster.proxy.pin(({ path }) =>
      path === '/authorize' ? 'a' : path === '/auth/callback' ? 'b' : undefined,
    );
    split = newOAuthClient(adeleBrowser, 'Split client');
    clients.push(split);
    try {
      await authorizeInBrowser(cluster, adeleBrowser, adele, split);
    } finally {
      cluster.proxy.pin(undefined);
    }
    const served = cluster.proxy.log.map((r) => `${r.instance} ${r.method} ${r.path}`);
    expect(served).toContain('a GET /authorize');
    expect(served).toContain('b GET /auth/callback');
    // The other steps went round the rotation: both instances took part besides those two.
    expect(new Set(cluster.proxy.log.map((r) => r.instance))).toEqual(new Set(['a', 'b']));

    const token = accessTokenOf(split);
    for (const instance of ['a', 'b']) {
      const answer = await postMcp(cluster, instance, token, toolCall('auth_status'));
      expect(answer.status, `auth_status on ${instance}: ${answer.body}`).toBe(200);
      const { result } = rpcResult(answer);
      expect(result?.isError, JSON.stringify(result)).toBeFalsy();
      expect(JSON.stringify(result?.structuredContent)).toContain(adele.username);
    }
  });

  it('serves a tool call on B from the token cache that the sign-in on A wrote, without asking the IdP for a token', async () => {
    cluster.proxy.pin(() => 'a');
    onA = newOAuthClient(alexBrowser, 'Client on A');
    clients.push(onA);
    const from = cluster.proxy.log.length;
    try {
      await authorizeInBrowser(cluster, alexBrowser, alex, onA);
    } finally {
      cluster.proxy.pin(undefined);
    }
    const callback = cluster.proxy.log.slice(from).find((r) => r.path === '/auth/callback');
    expect(callback).toMatchObject({ instance: 'a', status: 303 });

    const tokenRequests = cluster.idp.tokenRequests.length;
    const meBefore = cluster.graph.requests.filter((r) => r.userId === alex.id).length;
    const answer = await postMcp(cluster, 'b', accessTokenOf(onA), toolCall('get_user_details'));
    expect(answer.status, answer.body).toBe(200);
    const { result } = rpcResult(answer);
    expect(result?.isError, JSON.stringify(result)).toBeFalsy();
    expect(JSON.stringify(result?.structuredContent)).toContain(alex.username);
    // B called Graph as Alex with the token A's sign-in cached, and asked the IdP for nothing.
    expect(cluster.graph.requests.filter((r) => r.userId === alex.id).length).toBe(meBefore + 1);
    expect(cluster.idp.tokenRequests.slice(tokenRequests)).toEqual([]);
  });

  it("shows a user's call made on B in the Activity of their page served by A, from the feed every instance publishes", async () => {
    const page = alexBrowser.page;
    cluster.proxy.pin(({ path }) => (path.includes('/api/') || path === '/' ? 'a' : undefined));
    try {
      await page.goto(`${cluster.publicUrl}/`);
      const listed = await page.evaluate(async () => {
        const session = (await (await fetch('api/session')).json()) as { csrf: string };
        const response = await fetch('api/listActivity', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf },
          body: '{}',
        });
        return (await response.json()) as {
          result?: { items: Array<{ tool: string | null; account: string | null }> };
        };
      });
      expect(listed.result?.items).toContainEqual(
        expect.objectContaining({ tool: 'get_user_details', account: alex.username }),
      );
      // Adele's calls went through the same instances: a plain user sees none of them.
      expect(listed.result?.items.map((i) => i.account)).not.toContain(adele.username);
      expect(listed.result?.items.every((i) => i.account === alex.username)).toBe(true);
    } finally {
      cluster.proxy.pin(undefined);
    }
    const servedByA = cluster.proxy.log.filter((r) => r.path.endsWith('/api/listActivity'));
    expect(servedByA.map((r) => r.instance)).toEqual(['a']);
  });

  it("holds a user's Graph calls on B while the Retry-After Graph gave A for that user runs", async () => {
    const token = accessTokenOf(split);
    // A fault is answered before the token is read: Graph's 429 names no user.
    const throttled = () =>
      cluster.graph.requests.filter((r) => r.path === '/v1.0/me' && r.status === 429).length;
    cluster.graph.inject({ path: '/v1.0/me', status: 429, retryAfterSeconds: 2 });
    const onA = postMcp(cluster, 'a', token, toolCall('get_user_details'));
    await expect.poll(throttled, { interval: 20, timeout: 5000 }).toBe(1);
    const started = performance.now();
    const onB = await postMcp(cluster, 'b', token, toolCall('get_user_details'));
    const waitedMs = performance.now() - started;
    for (const answer of [await onA, onB]) {
      expect(answer.status, answer.body).toBe(200);
      expect(rpcResult(answer).result?.isError, answer.body).toBeFalsy();
    }
    // B sent nothing to Graph for Adele until the wait was over, so Graph throttled no more.
    expect(waitedMs).toBeGreaterThan(1000);
    expect(throttled()).toBe(1);
  });

  it('refuses the next request through B within 1 s of `mcp-valet keys revoke --remote` run against A', async () => {
    const token = accessTokenOf(split);
    cluster.proxy.pin(({ path }) => (path === '/mcp' ? 'b' : undefined));
    try {
      expect((await postMcp(cluster, 'proxy', token, { method: 'tools/list' })).status).toBe(200);
      const listed = await runCli(
        ['keys', 'list', '--remote', '--json'],
        cluster.cliEnvFor('a'),
        20_000,
      );
      expect(listed.code, listed.stderr).toBe(0);
      const keys = (listed.events.find((e) => e.event === 'keys')?.keys ?? []) as Array<{
        id: string;
        name: string;
        username: string;
      }>;
      const key = keys.find((k) => k.username === adele.username && k.name === 'Split client');
      expect(key, JSON.stringify(keys)).toBeDefined();

      const revoked = await runCli(
        ['keys', 'revoke', key?.id ?? '', '--remote', '--json'],
        cluster.cliEnvFor('a'),
        20_000,
      );
      expect(revoked.code, revoked.stderr).toBe(0);
      const at = performance.now();
      const refused = await postMcp(cluster, 'proxy', token, { method: 'tools/list' });
      const tookMs = performance.now() - at;
      expect(refused.status).toBe(401);
      expect(tookMs).toBeLessThan(1000);
      expect(cluster.proxy.log.at(-1)).toMatchObject({ instance: 'b', path: '/mcp', status: 401 });
    } finally {
      cluster.proxy.pin(undefined);
    }
  });

  it('holds a per-key limit of 3 across alternating instances: the 4th request gets 429 with Retry-After', async () => {
    await cluster.writePolicy({ rateLimits: { requestsPerMinute: 1, burst: 3 } });
    // Each instance re-reads its config.json within 250 ms of a change.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const token = accessTokenOf(onA);
    const from = cluster.proxy.log.length;
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(await postMcp(cluster, 'proxy', token, { method: 'tools/list' }));
    const servedBy = cluster.proxy.log.slice(from).map((r) => r.instance);
    expect(servedBy[0]).not.toBe(servedBy[1]);
    expect(servedBy).toEqual([servedBy[0], servedBy[1], servedBy[0], servedBy[1]]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(Number(answers[3]?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await cluster.writePolicy({});
  });

  it('leaves no JWT, refresh token, valet token, client secret or password in Redis', async () => {
    const found = await secretsInRedis(cluster, clients);
    expect(found).toEqual({});
  });
});
