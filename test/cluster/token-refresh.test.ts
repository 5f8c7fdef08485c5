import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import {
  accessTokenOf,
  authorizeInBrowser,
  newOAuthClient,
  openUserBrowser,
  startClusterWithBrowser,
  postMcp,
  rpcResult,
  toolCall,
} from '../support/cluster-clients.ts';
import { secretsInRedis } from '../support/cluster-secrets.ts';
import type { RemoteCluster } from '../support/remote-cluster.ts';
import type { TestOAuthClient } from '../support/valet-auth-harness.ts';

const [adele] = DEMO_USERS as [IdpUser];
/** Shorter than MSAL's five minutes of renewal margin: a token this young is already due. */
const DUE_TTL_SECONDS = 120;

describe('two instances refreshing the same user’s Graph token at once', () => {
  let cluster: RemoteCluster;
  let browser: Browser;
  let client: TestOAuthClient;

  beforeAll(async () => {
    ({ cluster, browser } = await startClusterWithBrowser({
      adminConsented: ['User.Read', 'Mail.Read'],
      idp: { accessTokenTtlSeconds: DUE_TTL_SECONDS },
    }));
    const user = await openUserBrowser(browser);
    client = newOAuthClient(user);
    await authorizeInBrowser(cluster, user, adele, client);
    // The sign-in cached a Graph token that MSAL already counts as due; the next one lives an hour.
    cluster.idp.setAccessTokenTtl(3600);
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.close();
  });

  const refreshes = () =>
    cluster.idp.tokenRequests.filter((r) => r.grantType === 'refresh_token').length;

  async function call(instance: string, tool: string) {
    const answer = await postMcp(cluster, instance, accessTokenOf(client), toolCall(tool));
    expect(answer.status, `${tool} on ${instance}: ${answer.body}`).toBe(200);
    const { result } = rpcResult(answer);
    expect(result?.isError, `${tool} on ${instance}: ${JSON.stringify(result)}`).toBeFalsy();
    return result;
  }

  it('answers four calls on A and B at once, all with the due token refreshed once at the IdP, not once per instance', async () => {
    const before = refreshes();
    const results = await Promise.all(
      ['a', 'b', 'a', 'b'].map((instance) => call(instance, 'get_user_details')),
    );
    for (const result of results)
      expect(JSON.stringify(result?.structuredContent)).toContain(adele.username);
    expect(refreshes() - before).toBe(1);
  });

  it('keeps a working token cache: later calls on both instances still reach Graph without a new sign-in', async () => {
    const graphCalls = cluster.graph.requests.length;
    await call('a', 'list_messages');
    await call('b', 'list_messages');
    await call('a', 'list_messages');
    expect(cluster.graph.requests.length).toBe(graphCalls + 3);
  });

  it('leaves no JWT, refresh token, valet token, client secret or password in Redis', async () => {
    expect(await secretsInRedis(cluster, [client])).toEqual({});
  });
});
