import { describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { connectClient, startValet, useValet } from '../../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, {
  core: { graph: { retry: { budgetMs: 3_000, baseDelayMs: 100, maxAttempts: 10 } } },
  key: 'faults',
});

const messagesRequests = () =>
  fx.valet.graph.requests.filter((r) => r.path === '/v1.0/me/messages');

describe('Graph faults through the endpoint', () => {
  it('honours 429 Retry-After: 2 (the stand-in sees the retry no sooner)', async () => {
    const { client } = await connectClient(fx.valet.endpoint.url, fx.secret);
    const before = messagesRequests().length;
    fx.valet.graph.inject({
      path: '/v1.0/me/messages',
      status: 429,
      retryAfterSeconds: 2,
      times: 1,
    });
    const result = await client.callTool({ name: 'list_messages', arguments: { top: 3 } });
    expect(result.isError).toBeFalsy();
    const seen = messagesRequests().slice(before);
    expect(seen.map((r) => r.status)).toEqual([429, 200]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(2_000);
  });

  it('ends a 503 storm within the budget with a clear error', async () => {
    const { client } = await connectClient(fx.valet.endpoint.url, fx.secret);
    fx.valet.graph.inject({ path: '/v1.0/me/messages', status: 503, times: Infinity });
    const started = Date.now();
    const result = await client.callTool({ name: 'list_messages', arguments: {} });
    fx.valet.graph.clearFaults();
    expect(Date.now() - started).toBeLessThan(3_000 + 1_500);
    expect(result.isError).toBe(true);
    const text = JSON.stringify(result.content);
    expect(text).toMatch(
      /Microsoft Graph is unavailable \(HTTP 503(, \w+)?\) after \d+ attempts over [\d.]+ s: try again later/,
    );
    expect(text).not.toMatch(/\n\s+at |\[object Object\]/);
  });

  it('refreshes a token that expires in the middle of a session, silently', async () => {
    // 5 minutes and 4 seconds: MSAL renews tokens 5 minutes before expiry, so this one is
    // good for about 4 seconds, then silently refreshed.
    fx.idp.setAccessTokenTtl(304);
    const short = await startValet(fx.idp, adele, { scopes: ['User.Read'], core: { meTtlMs: 0 } });
    try {
      const { secret: key } = await short.createKey({ name: 'short', tools: ['get_user_details'] });
      const { client } = await connectClient(short.endpoint.url, key);
      const refreshes = () =>
        fx.idp.tokenRequests.filter((r) => r.grantType === 'refresh_token').length;
      expect(
        (await client.callTool({ name: 'get_user_details', arguments: {} })).isError,
      ).toBeFalsy();
      const before = refreshes();
      await new Promise((r) => setTimeout(r, 5_000));
      const result = await client.callTool({ name: 'get_user_details', arguments: {} });
      expect(result.isError).toBeFalsy();
      expect(refreshes()).toBe(before + 1);
    } finally {
      fx.idp.setAccessTokenTtl(3600);
      await short.close();
    }
  });

  it('names the consent to give for a scope never consented', async () => {
    const narrow = await startValet(fx.idp, adele, { scopes: ['User.Read'] });
    try {
      const { secret: key } = await narrow.createKey({ name: 'narrow' });
      const { client } = await connectClient(narrow.endpoint.url, key);
      const result = await client.callTool({ name: 'list_messages', arguments: {} });
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toContain(
        'Mail.Read has not been consented: run `mcp-valet login --scopes Mail.Read` or approve it in the app',
      );
    } finally {
      await narrow.close();
    }
  });
});
