import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { auditRecords } from '../support/audit-records.ts';
import {
  authorizeInBrowser,
  connectClient,
  newOAuthClient,
  openUserBrowser,
  startClusterWithBrowser,
  within,
  type UserBrowser,
} from '../support/cluster-clients.ts';
import { secretsInRedis } from '../support/cluster-secrets.ts';
import type { RemoteCluster } from '../support/remote-cluster.ts';
import type { TestOAuthClient } from '../support/valet-auth-harness.ts';

const [adele] = DEMO_USERS as [IdpUser];
const APPROVAL_LINK = /http:\/\/\S+\/approvals\/([A-Za-z0-9_-]+)/;

/** A send_mail call that reports the approval page its progress messages link. */
function sendMail(mcp: Client, subject: string, signal?: AbortSignal) {
  let linked: (url: string) => void = () => undefined;
  const approvalUrl = new Promise<string>((resolve) => (linked = resolve));
  const result = mcp.callTool(
    { name: 'send_mail', arguments: { to: ['alex@contoso.test'], subject, body: 'Numbers' } },
    undefined,
    {
      ...(signal ? { signal } : {}),
      onprogress: ({ message }) => {
        const url = APPROVAL_LINK.exec(message ?? '');
        if (url) linked(url[0]);
      },
    },
  );
  // A call the test abandons must not count as an unhandled rejection.
  result.catch(() => undefined);
  return { approvalUrl: within(approvalUrl, 10_000, 'the approval link'), result };
}

describe('approvals across instances: asked on one, decided on another’s page', () => {
  let cluster: RemoteCluster;
  let browser: Browser;
  let user: UserBrowser;
  let oauth: TestOAuthClient;

  const sent = () =>
    cluster.graph.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/sendMail') && r.userId === adele.id,
    ).length;

  /** Approves on the page at `url`, in the user's browser, through instance B. */
  async function approveOnB(url: string) {
    const from = cluster.proxy.log.length;
    cluster.proxy.pin(({ path }) => (path.startsWith('/approvals/') ? 'b' : undefined));
    try {
      await user.page.goto(url);
      await user.page.locator('button#approve').click();
      await expect
        .poll(() => user.page.getByRole('status').innerText(), { timeout: 5000 })
        .toMatch(/approved/i);
    } finally {
      cluster.proxy.pin(undefined);
    }
    const decided = cluster.proxy.log
      .slice(from)
      .filter((r) => r.path === new URL(url).pathname && r.method === 'POST');
    expect(decided.map((r) => r.instance)).toEqual(['b']);
  }

  beforeAll(async () => {
    ({ cluster, browser } = await startClusterWithBrowser({
      adminConsented: ['User.Read', 'Mail.Send'],
    }));
    user = await openUserBrowser(browser);
    oauth = newOAuthClient(user, 'Mail client');
    await authorizeInBrowser(cluster, user, adele, oauth, 'valet.read valet.mail.send');
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.close();
  });

  it('completes a send_mail waiting on A once its user approves it on B’s /approvals page', async () => {
    cluster.proxy.pin(({ path }) => (path === '/mcp' ? 'a' : undefined));
    const mcp = await connectClient(cluster, oauth);
    try {
      const before = sent();
      const call = sendMail(mcp, 'Approved on B');
      const url = await call.approvalUrl;
      expect(url.startsWith(`${cluster.publicUrl}/approvals/`)).toBe(true);
      await approveOnB(url);
      const result = await within(call.result, 10_000, 'result of the call waiting on A');
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(sent()).toBe(before + 1);
      const calls = cluster.proxy.log.filter((r) => r.path === '/mcp').map((r) => r.instance);
      expect(new Set(calls)).toEqual(new Set(['a']));
    } finally {
      cluster.proxy.pin(undefined);
      await mcp.close();
    }
  });

  it('finds the same approval when A dies before the decision and the client calls again through B, and sends once it is approved', async () => {
    cluster.proxy.pin(({ path }) => (path === '/mcp' ? 'a' : undefined));
    const mcp = await connectClient(cluster, oauth);
    try {
      const before = sent();
      const gaveUp = new AbortController();
      const first = sendMail(mcp, 'Asked on A, approved after it died', gaveUp.signal);
      const firstUrl = await first.approvalUrl;
      await cluster.kill('a');
      // The client sees its stream end with no answer and gives up on that request.
      gaveUp.abort();
      await expect(first.result).rejects.toThrow();
      cluster.proxy.pin(undefined);

      const retry = sendMail(mcp, 'Asked on A, approved after it died');
      const retryUrl = await retry.approvalUrl;
      expect(retryUrl).toBe(firstUrl);
      expect(cluster.proxy.log.at(-1)).toMatchObject({ instance: 'b', path: '/mcp' });
      await approveOnB(retryUrl);
      const result = await within(retry.result, 10_000, 'result of the retry waiting on B');
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(sent()).toBe(before + 1);
      // B waited on the approval A had recorded: it asked for none of its own.
      const id = new URL(firstUrl).pathname.split('/').at(-1);
      const asked = (name: string) =>
        auditRecords(
          cluster.instance(name).auditDir,
          (r) => r.type === 'approval_requested' && r.details?.approvalId === id,
        );
      expect(await asked('a')).toHaveLength(1);
      expect(await asked('b')).toEqual([]);
    } finally {
      cluster.proxy.pin(undefined);
      await mcp.close();
    }
  });

  it('leaves no JWT, refresh token, valet token, client secret, password or mail text in Redis', async () => {
    const subjects = { 'a mail subject': 'Approved on B', 'a recipient': 'alex@contoso.test' };
    expect(await secretsInRedis(cluster, [oauth], subjects)).toEqual({});
  });
});
