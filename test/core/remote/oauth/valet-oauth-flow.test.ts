import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JWT_SHAPE } from '../../../support/remote-server.ts';
import {
  answerConsent,
  startValetAuth,
  TestOAuthClient,
  type ValetAuthHarness,
} from '../../../support/valet-auth-harness.ts';

let h: ValetAuthHarness;

beforeEach(async () => {
  h = await startValetAuth();
});

afterEach(async () => {
  expect(h.seen.filter((s) => JWT_SHAPE.test(`${s.headers}${s.body}`)).map((s) => s.url)).toEqual(
    [],
  );
  await h.close();
});

/** DCR, PKCE and consent through the SDK client's own auth(); resolves to the client and its code. */
async function authorize(client = new TestOAuthClient(), answer = {}) {
  const session = await h.signIn();
  expect(await auth(client, { serverUrl: h.mcpUrl, fetchFn: h.fetch })).toBe('REDIRECT');
  const run = await answerConsent(h, client.authorizationUrl as URL, session, answer);
  return { client, session, run, code: run.redirect.searchParams.get('code') ?? '' };
}

describe('valet mode authorization server with the SDK client', () => {
  it('registers by DCR, takes PKCE and consent, and issues an opaque token verifyAccessToken accepts for the key', async () => {
    const { client, run, code } = await authorize();
    expect(run.redirect.origin + run.redirect.pathname).toBe(client.redirectUrl);
    expect(code).toMatch(/^mvc_/);
    expect(run.redirect.searchParams.get('iss')).toBe(h.url);
    expect(run.redirect.searchParams.get('state')).toBe(
      client.authorizationUrl?.searchParams.get('state'),
    );
    expect(
      await auth(client, { serverUrl: h.mcpUrl, authorizationCode: code, fetchFn: h.fetch }),
    ).toBe('AUTHORIZED');
    const tokens = client.tokens();
    expect(tokens?.access_token).toMatch(/^mva_/);
    expect(tokens?.refresh_token).toMatch(/^mvr_/);
    expect(tokens?.scope).toBe('valet.read');
    const info = await h.server.provider.verifyAccessToken(tokens?.access_token ?? '');
    expect(info.clientId).toBe(client.clientInformation()?.client_id);
    expect(info.resource?.href).toBe(h.mcpUrl);
    expect(info.expiresAt).toBeGreaterThan(Date.now() / 1000 + 3500);
    expect(info.extra).toMatchObject({
      oid: '00000000-0000-0000-0000-00000000a11c',
      username: 'alice@contoso.example',
      readOnly: false,
      tools: [
        'get_user_details',
        'list_messages',
        'get_message',
        'list_events',
        'search_files',
        'search_people',
        'auth_status',
      ],
    });
    const key = await h.server.keys.get(String(info.extra?.keyId));
    expect(key).toMatchObject({ name: 'Test MCP client', clientId: info.clientId, oid: key?.oid });
    // Only hashes are stored: the raw token is no store key and no value.
    expect(await h.store.get(`at:${tokens?.access_token}`)).toBeNull();
  });

  it('stores tokens only as SHA-256 hashes: no raw access or refresh token in any store key or value', async () => {
    const { client, code } = await authorize();
    await auth(client, { serverUrl: h.mcpUrl, authorizationCode: code, fetchFn: h.fetch });
    const { access_token, refresh_token } = client.tokens() ?? { access_token: '' };
    const { createHash } = await import('node:crypto');
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    expect(await h.store.get(`at:${sha(access_token)}`)).not.toBeNull();
    expect(await h.store.get(`rt:${sha(refresh_token ?? '')}`)).not.toBeNull();
    expect(h.writes.length).toBeGreaterThan(5);
    for (const secret of [access_token, refresh_token ?? '', code])
      expect(h.writes.filter((w) => w.includes(secret))).toEqual([]);
  });

  it('advertises CIMD in its authorization server metadata and only valet.read in the protected resource metadata', async () => {
    const as = await (await h.fetch(`${h.url}/.well-known/oauth-authorization-server`)).json();
    expect(as).toMatchObject({
      issuer: h.url,
      client_id_metadata_document_supported: true,
      code_challenge_methods_supported: ['S256'],
      registration_endpoint: `${h.url}/register`,
      revocation_endpoint: `${h.url}/revoke`,
      scopes_supported: ['valet.read', 'valet.mail.send', 'valet.calendars.write'],
    });
    const prm = await (await h.fetch(`${h.url}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(prm).toEqual({
      resource: h.mcpUrl,
      authorization_servers: [h.url],
      scopes_supported: ['valet.read'],
      bearer_methods_supported: ['header'],
      resource_name: 'MCP Valet',
    });
  });

  it('gives a write tool only when the user ticks it, and a read-only consent drops write tools', async () => {
    const ticked = await authorize(undefined, { tools: ['list_messages', 'send_mail'] });
    await auth(ticked.client, {
      serverUrl: h.mcpUrl,
      authorizationCode: ticked.code,
      fetchFn: h.fetch,
    });
    expect(ticked.client.tokens()?.scope).toBe('valet.read valet.mail.send');
    const info = await h.server.provider.verifyAccessToken(
      ticked.client.tokens()?.access_token ?? '',
    );
    expect(info.extra?.tools).toEqual(['list_messages', 'send_mail']);

    const readOnly = await authorize(new TestOAuthClient({ name: 'Another' }), {
      tools: ['list_messages', 'send_mail'],
      readOnly: true,
    });
    await auth(readOnly.client, {
      serverUrl: h.mcpUrl,
      authorizationCode: readOnly.code,
      fetchFn: h.fetch,
    });
    const ro = await h.server.provider.verifyAccessToken(
      readOnly.client.tokens()?.access_token ?? '',
    );
    expect(ro.extra).toMatchObject({ tools: ['list_messages'], readOnly: true });
    expect(ro.scopes).toEqual(['valet.read']);
  });

  it('reuses the same valet key when the same user consents to the same client again, with the new tools', async () => {
    const first = await authorize();
    await auth(first.client, {
      serverUrl: h.mcpUrl,
      authorizationCode: first.code,
      fetchFn: h.fetch,
    });
    const firstKey = (
      await h.server.provider.verifyAccessToken(first.client.tokens()?.access_token ?? '')
    ).extra?.keyId;
    // The client starts over (say, after step-up) with the same registration.
    first.client.saveTokens(undefined as never);
    expect(
      await auth(first.client, {
        serverUrl: h.mcpUrl,
        scope: 'valet.read valet.mail.send',
        fetchFn: h.fetch,
      }),
    ).toBe('REDIRECT');
    const again = await answerConsent(h, first.client.authorizationUrl as URL, first.session);
    expect(again.page).toMatch(/value="send_mail" checked/);
    const code = again.redirect.searchParams.get('code') ?? '';
    await auth(first.client, { serverUrl: h.mcpUrl, authorizationCode: code, fetchFn: h.fetch });
    const info = await h.server.provider.verifyAccessToken(
      first.client.tokens()?.access_token ?? '',
    );
    expect(info.extra?.keyId).toBe(firstKey);
    expect(info.extra?.tools).toContain('send_mail');
    expect(await h.server.keys.list('00000000-0000-0000-0000-00000000a11c')).toHaveLength(1);
  });
});
