import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JWT_SHAPE } from '../../../support/remote-server.ts';
import {
  answerConsent,
  readConsentForm,
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

/** A registered client with a consented code, its PKCE verifier and the session that consented. */
async function consentedCode() {
  const client = new TestOAuthClient();
  const session = await h.signIn();
  await auth(client, { serverUrl: h.mcpUrl, fetchFn: h.fetch });
  const run = await answerConsent(h, client.authorizationUrl as URL, session);
  const clientId = client.clientInformation()?.client_id ?? '';
  return {
    client,
    session,
    clientId,
    code: run.redirect.searchParams.get('code') ?? '',
    verifier: client.codeVerifier(),
  };
}

async function token(params: Record<string, string>) {
  const res = await h.fetch(`${h.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

function codeGrant(
  c: { clientId: string; code: string; verifier: string; client: TestOAuthClient },
  extra: Record<string, string> = {},
) {
  return token({
    grant_type: 'authorization_code',
    client_id: c.clientId,
    code: c.code,
    code_verifier: c.verifier,
    redirect_uri: c.client.redirectUrl,
    resource: h.mcpUrl,
    ...extra,
  });
}

describe('valet mode authorization server under attack', () => {
  it('refuses a token request without a PKCE verifier and one with the wrong verifier, and still honours the right one', async () => {
    const c = await consentedCode();
    const { code_verifier: _, ...withoutVerifier } = {
      grant_type: 'authorization_code',
      client_id: c.clientId,
      code: c.code,
      code_verifier: '',
      redirect_uri: c.client.redirectUrl,
    };
    expect(await token(withoutVerifier)).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
    expect(await codeGrant(c, { code_verifier: 'x'.repeat(64) })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect((await codeGrant(c)).status).toBe(200);
  });

  it('refuses an authorization request without a PKCE challenge by redirecting with invalid_request', async () => {
    const c = await consentedCode();
    const url = new URL(`${h.url}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: c.clientId,
      redirect_uri: c.client.redirectUrl,
      state: 's1',
    }).toString();
    const res = await h.fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location') ?? '');
    expect(back.origin + back.pathname).toBe(c.client.redirectUrl);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('code')).toBeNull();
  });

  it('refuses an unregistered redirect URI at /authorize without redirecting, and a different one at /token', async () => {
    const c = await consentedCode();
    const url = new URL(c.client.authorizationUrl as URL);
    url.searchParams.set('redirect_uri', 'https://attacker.example/callback');
    const res = await h.fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await codeGrant(c, { redirect_uri: 'http://127.0.0.1:53682/other' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  it('refuses a resource other than the MCP endpoint at /token', async () => {
    const c = await consentedCode();
    expect(await codeGrant(c, { resource: 'https://graph.microsoft.com/' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_target' },
    });
  });

  it('refuses a reused authorization code and revokes the tokens first issued for it', async () => {
    const c = await consentedCode();
    const first = await codeGrant(c);
    expect(first.status).toBe(200);
    expect(await codeGrant(c)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    await expect(
      h.server.provider.verifyAccessToken(first.body.access_token ?? ''),
    ).rejects.toThrow(/revoked|unknown/);
  });

  it('rotates refresh tokens, and a refresh token used twice revokes the whole family', async () => {
    const c = await consentedCode();
    const issued = (await codeGrant(c)).body;
    const refresh = (rt: string) =>
      token({ grant_type: 'refresh_token', client_id: c.clientId, refresh_token: rt });
    const rotated = await refresh(issued.refresh_token ?? '');
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(issued.refresh_token);
    const live = await h.server.provider.verifyAccessToken(rotated.body.access_token ?? '');
    // The thief (or the client) comes back with the spent refresh token.
    expect(await refresh(issued.refresh_token ?? '')).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    await expect(
      h.server.provider.verifyAccessToken(rotated.body.access_token ?? ''),
    ).rejects.toThrow();
    expect(await refresh(rotated.body.refresh_token ?? '')).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect((await h.server.keys.get(String(live.extra?.keyId)))?.revokedAt).toBeDefined();
  });

  it("refuses a revoked key's access token at once", async () => {
    const c = await consentedCode();
    const issued = (await codeGrant(c)).body;
    const info = await h.server.provider.verifyAccessToken(issued.access_token ?? '');
    expect(await h.server.keys.revoke(String(info.extra?.keyId))).toBe(true);
    await expect(h.server.provider.verifyAccessToken(issued.access_token ?? '')).rejects.toThrow(
      /revoked|unknown/,
    );
    expect(
      await token({
        grant_type: 'refresh_token',
        client_id: c.clientId,
        refresh_token: issued.refresh_token ?? '',
      }),
    ).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  it('/revoke ends an access token alone, and a refresh token with its whole family', async () => {
    const c = await consentedCode();
    const issued = (await codeGrant(c)).body;
    const revoke = (t: string, hint: string) =>
      h.fetch(`${h.url}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: c.clientId, token: t, token_type_hint: hint }),
      });
    expect((await revoke(issued.access_token ?? '', 'access_token')).status).toBe(200);
    await expect(h.server.provider.verifyAccessToken(issued.access_token ?? '')).rejects.toThrow();
    const again = await token({
      grant_type: 'refresh_token',
      client_id: c.clientId,
      refresh_token: issued.refresh_token ?? '',
    });
    expect(again.status).toBe(200);
    expect((await revoke(again.body.refresh_token ?? '', 'refresh_token')).status).toBe(200);
    await expect(
      h.server.provider.verifyAccessToken(again.body.access_token ?? ''),
    ).rejects.toThrow();
    expect(
      await token({
        grant_type: 'refresh_token',
        client_id: c.clientId,
        refresh_token: again.body.refresh_token ?? '',
      }),
    ).toMatchObject({ status: 400 });
  });

  it('refuses a consent post without the CSRF token or with a wrong one, and leaves the request pending', async () => {
    const client = new TestOAuthClient();
    const session = await h.signIn();
    await auth(client, { serverUrl: h.mcpUrl, fetchFn: h.fetch });
    const start = await h.fetch(client.authorizationUrl as URL, {
      redirect: 'manual',
      headers: { cookie: session.cookie },
    });
    const consentUrl = new URL(start.headers.get('location') ?? '', h.url);
    const page = await (await h.fetch(consentUrl, { headers: { cookie: session.cookie } })).text();
    const post = (body: URLSearchParams) =>
      h.fetch(consentUrl, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    const withoutCsrf = await post(
      new URLSearchParams({ decision: 'allow', tools: 'list_messages' }),
    );
    expect(withoutCsrf.status).toBe(403);
    expect(withoutCsrf.headers.get('location')).toBeNull();
    const wrongCsrf = await post(
      new URLSearchParams({ csrf: 'not-the-token', decision: 'allow', tools: 'list_messages' }),
    );
    expect(wrongCsrf.status).toBe(403);
    // Another user's session token does not do either.
    const other = await h.signIn({
      ...session,
      oid: 'bob',
      tid: 't',
      homeAccountId: 'h',
      name: 'Bob',
      username: 'bob@x',
      roles: [],
    } as never);
    expect(
      (
        await post(
          new URLSearchParams({ csrf: other.csrf, decision: 'allow', tools: 'list_messages' }),
        )
      ).status,
    ).toBe(403);
    const right = await post(
      new URLSearchParams({
        csrf: readConsentForm(page).csrf,
        decision: 'allow',
        tools: 'list_messages',
      }),
    );
    expect(right.status).toBe(303);
    expect(new URL(right.headers.get('location') ?? '').searchParams.get('code')).toMatch(/^mvc_/);
  });

  it('answers a consent request once: posting the same form again finds it gone and mints no code', async () => {
    const client = new TestOAuthClient();
    const session = await h.signIn();
    await auth(client, { serverUrl: h.mcpUrl, fetchFn: h.fetch });
    const run = await answerConsent(h, client.authorizationUrl as URL, session);
    const replay = await h.fetch(run.consentUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: session.csrf, decision: 'allow', tools: 'list_messages' }),
    });
    expect(replay.status).toBe(404);
    expect(replay.headers.get('location')).toBeNull();
  });

  it('sends a browser without a web session to sign in first, coming back to the consent page', async () => {
    const client = new TestOAuthClient();
    await auth(client, { serverUrl: h.mcpUrl, fetchFn: h.fetch });
    const start = await h.fetch(client.authorizationUrl as URL, { redirect: 'manual' });
    const consentPath = new URL(start.headers.get('location') ?? '').pathname;
    const page = await h.fetch(new URL(consentPath, h.url), { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe(
      `/auth/login?returnTo=${encodeURIComponent(consentPath)}`,
    );
  });

  it('sends access_denied with state and iss when the user denies, and issues no key', async () => {
    const client = new TestOAuthClient();
    const session = await h.signIn();
    await auth(client, { serverUrl: h.mcpUrl, fetchFn: h.fetch });
    const run = await answerConsent(h, client.authorizationUrl as URL, session, {
      decision: 'deny',
    });
    expect(run.redirect.searchParams.get('error')).toBe('access_denied');
    expect(run.redirect.searchParams.get('code')).toBeNull();
    expect(run.redirect.searchParams.get('iss')).toBe(h.url);
    expect(run.redirect.searchParams.get('state')).toBe(
      client.authorizationUrl?.searchParams.get('state'),
    );
    expect(await h.server.keys.list('00000000-0000-0000-0000-00000000a11c')).toEqual([]);
  });
});
