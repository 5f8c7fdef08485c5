import {
  CryptoProvider,
  InteractionRequiredAuthError,
  PublicClientApplication,
  ResponseMode,
  ServerError,
} from '@azure/msal-node';
import type { AccountInfo, AuthenticationResult } from '@azure/msal-node';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  completeDeviceCode,
  launchBrowser,
  newUserContext,
  signInAtIdp,
} from '../support/browser.ts';
import type { ConsentAnswer, IdpVisit } from '../support/browser.ts';
import { msalAuthFor, startTestIdp } from '../support/idp.ts';
import { DEMO_USERS, GRAPH_RESOURCE } from '../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../main/demo/idp/index.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];

describe('Entra-like IdP with real msal-node', () => {
  let idp: RunningIdp;
  let browser: Browser;
  const contexts = new Map<string, BrowserContext>();
  // One MSAL app (and token cache) for the whole suite, like one desktop app install.
  let pca: PublicClientApplication;
  let adeleAccount: AccountInfo;

  beforeAll(async () => {
    [idp, browser] = await Promise.all([startTestIdp(), launchBrowser()]);
    pca = new PublicClientApplication({ auth: msalAuthFor(idp) });
  });

  afterAll(async () => {
    await browser?.close();
    await idp?.close();
  });

  async function contextFor(user: IdpUser): Promise<BrowserContext> {
    let context = contexts.get(user.username);
    if (!context) {
      context = await newUserContext(browser);
      contexts.set(user.username, context);
    }
    return context;
  }

  async function signInInteractively(
    user: IdpUser,
    scopes: string[],
    options: { consent?: ConsentAnswer; prompt?: 'select_account' | 'login' } = {},
  ): Promise<{ result: AuthenticationResult; visit: IdpVisit }> {
    const page = await (await contextFor(user)).newPage();
    let visit: IdpVisit | undefined;
    try {
      const result = await pca.acquireTokenInteractive({
        scopes,
        ...(options.prompt ? { prompt: options.prompt } : {}),
        openBrowser: async (url) => {
          await page.goto(url);
          visit = await signInAtIdp(page, user, { consent: options.consent });
        },
      });
      return { result, visit: visit ?? { signedIn: false } };
    } finally {
      await page.close();
    }
  }

  async function verifyAccessToken(token: string): Promise<Record<string, unknown>> {
    const jwks = createRemoteJWKSet(new URL(idp.jwksUri));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: idp.issuer,
      audience: GRAPH_RESOURCE,
      algorithms: ['RS256'],
    });
    expect(protectedHeader.typ).toBe('JWT');
    return payload;
  }

  it('publishes Entra-shaped discovery on one host, trusted through NODE_EXTRA_CA_CERTS', async () => {
    // Plain fetch in the test worker: proves the global setup's CA reached this process.
    const response = await fetch(`${idp.authority}/v2.0/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const discovery = (await response.json()) as Record<string, string>;
    expect(discovery.issuer).toBe(`${idp.authority}/v2.0`);
    expect(discovery.authorization_endpoint).toBe(`${idp.authority}/oauth2/v2.0/authorize`);
    expect(discovery.token_endpoint).toBe(`${idp.authority}/oauth2/v2.0/token`);
    expect(discovery.device_authorization_endpoint).toBe(`${idp.authority}/oauth2/v2.0/devicecode`);
    expect(discovery.end_session_endpoint).toBe(`${idp.authority}/oauth2/v2.0/logout`);
    expect(discovery.jwks_uri).toBe(idp.jwksUri);
    const logout = await fetch(discovery.end_session_endpoint ?? '');
    expect(logout.status).toBe(200);
    expect(await logout.text()).toContain(`${idp.authority}/oauth2/v2.0/logout/confirm`);

    // Reached through 127.0.0.1, it still names the issuer's host everywhere.
    const viaIp = await fetch(
      `https://127.0.0.1:${idp.port}/organizations/v2.0/.well-known/openid-configuration`,
    );
    const organizations = (await viaIp.json()) as Record<string, string>;
    expect(organizations.issuer).toBe(idp.issuer);
    expect(organizations.token_endpoint).toBe(`${idp.origin}/organizations/oauth2/v2.0/token`);
  });

  it('signs in through the loopback redirect with auth code + PKCE and issues Graph tokens', async () => {
    const { result, visit } = await signInInteractively(adele, ['User.Read'], { consent: true });
    expect(visit).toEqual({ signedIn: true, consentScopes: ['openid', 'profile', 'User.Read'] });

    const account = result.account as AccountInfo;
    expect(account.username).toBe(adele.username);
    expect(account.tenantId).toBe(idp.tenantId);
    expect(account.localAccountId).toBe(adele.id);
    expect(account.homeAccountId).toBe(`${adele.id}.${idp.tenantId}`);
    expect(result.idTokenClaims).toMatchObject({
      tid: idp.tenantId,
      oid: adele.id,
      ver: '2.0',
      roles: adele.roles,
    });
    expect(result.scopes).toContain('User.Read');

    const claims = await verifyAccessToken(result.accessToken);
    expect(String(claims.scp).split(' ')).toContain('User.Read');
    expect(claims).toMatchObject({
      tid: idp.tenantId,
      oid: adele.id,
      preferred_username: adele.username,
      name: adele.name,
      roles: adele.roles,
      azp: idp.clientIds[0],
    });
    adeleAccount = account;
  });

  it('answers acquireTokenSilent from the cache, then refreshes once the token is short-lived', async () => {
    const before = idp.tokenRequests.length;
    const cached = await pca.acquireTokenSilent({ account: adeleAccount, scopes: ['User.Read'] });
    expect(cached.fromCache).toBe(true);
    expect(idp.tokenRequests.length).toBe(before);

    // MSAL treats tokens expiring within 5 minutes as expired: every silent call refreshes.
    idp.setAccessTokenTtl(120);
    try {
      const first = await pca.acquireTokenSilent({
        account: adeleAccount,
        scopes: ['User.Read'],
        forceRefresh: true,
      });
      const second = await pca.acquireTokenSilent({ account: adeleAccount, scopes: ['User.Read'] });
      expect(second.fromCache).toBe(false);
      expect(second.accessToken).not.toBe(first.accessToken);
      const refreshes = idp.tokenRequests.slice(before);
      expect(refreshes.map((r) => r.grantType)).toEqual(['refresh_token', 'refresh_token']);
      expect(refreshes.every((r) => r.clientId === idp.clientIds[0])).toBe(true);
      const claims = await verifyAccessToken(second.accessToken);
      expect(Number(claims.exp) - Number(claims.iat)).toBe(120);
    } finally {
      idp.setAccessTokenTtl(3600);
    }
  });

  it('asks for consent again for a new scope (incremental consent)', async () => {
    // Silent first, as the app does: the new scope needs interaction.
    const silent = pca.acquireTokenSilent({ account: adeleAccount, scopes: ['Mail.Read'] });
    await expect(silent).rejects.toBeInstanceOf(InteractionRequiredAuthError);
    await expect(silent).rejects.toMatchObject({ subError: 'consent_required' });

    const { result, visit } = await signInInteractively(adele, ['Mail.Read'], { consent: true });
    // MSAL sends no prompt by default: the IdP session signs Adele in, only consent is asked.
    expect(visit).toEqual({ signedIn: false, consentScopes: ['Mail.Read'] });
    const claims = await verifyAccessToken(result.accessToken);
    expect(String(claims.scp).split(' ')).toContain('Mail.Read');

    // The newest refresh token still redeems the earlier scope, as Entra's do.
    const userRead = await pca.acquireTokenSilent({
      account: adeleAccount,
      scopes: ['User.Read'],
      forceRefresh: true,
    });
    expect(String((await verifyAccessToken(userRead.accessToken)).scp).split(' ')).toContain(
      'User.Read',
    );
  });

  it('treats prompt=select_account like login, and returns access_denied on a cancelled consent', async () => {
    const before = idp.tokenRequests.length;
    const attempt = signInInteractively(adele, ['Calendars.Read'], {
      consent: 'cancel',
      prompt: 'select_account',
    });
    await expect(attempt).rejects.toBeInstanceOf(ServerError);
    await expect(attempt).rejects.toMatchObject({ errorCode: 'access_denied' });
    expect(idp.tokenRequests.length).toBe(before);
  });

  it('shows the sign-in page for prompt=select_account even with a session', async () => {
    const { visit } = await signInInteractively(adele, ['User.Read'], {
      consent: false,
      prompt: 'select_account',
    });
    expect(visit).toEqual({ signedIn: true });
  });

  it('completes a device code sign-in in the browser', async () => {
    const page = await (await contextFor(alex)).newPage();
    let browserDone: Promise<IdpVisit> | undefined;
    let interval: number | undefined;
    let message = '';
    const result = await pca.acquireTokenByDeviceCode({
      scopes: ['User.Read'],
      deviceCodeCallback: (response) => {
        interval = response.interval;
        message = response.message;
        browserDone = completeDeviceCode(page, response.verificationUri, response.userCode, alex, {
          consent: true,
        });
      },
    });
    const visit = await browserDone;
    await page.close();
    expect(visit).toEqual({
      signedIn: true,
      consentScopes: ['openid', 'profile', 'offline_access', 'User.Read'],
    });

    expect(interval).toBe(1);
    expect(message).toContain(`${idp.authority}/devicelogin`);
    expect(result?.account?.username).toBe(alex.username);
    expect(result?.account?.homeAccountId).toBe(`${alex.id}.${idp.tenantId}`);
    expect(result?.idTokenClaims).not.toHaveProperty('roles');
    expect(idp.tokenRequests.some((r) => r.grantType === 'device_code')).toBe(true);
    const claims = await verifyAccessToken(result?.accessToken ?? '');
    expect(claims).toMatchObject({ oid: alex.id, preferred_username: alex.username });
    expect(claims).not.toHaveProperty('roles');
  });

  it('makes the next refresh fail with InteractionRequiredAuthError after revokeUser', async () => {
    await idp.revokeUser(adele.username);
    const attempt = pca.acquireTokenSilent({
      account: adeleAccount,
      scopes: ['User.Read'],
      forceRefresh: true,
    });
    await expect(attempt).rejects.toBeInstanceOf(InteractionRequiredAuthError);
    await expect(attempt).rejects.toMatchObject({
      errorCode: 'invalid_grant',
      subError: 'bad_token',
    });
  });

  it('rejects unknown scopes instead of dropping them', async () => {
    const page = await (await contextFor(alex)).newPage();
    try {
      const interactive = pca.acquireTokenInteractive({
        scopes: ['Foo.ReadEverything'],
        openBrowser: async (url) => {
          await page.goto(url);
        },
      });
      await expect(interactive).rejects.toMatchObject({ errorCode: 'invalid_scope' });
    } finally {
      await page.close();
    }
    // The device code endpoint refuses it too. MSAL does not check that response: it polls
    // with no device code and fails with invalid_grant, so look at the endpoint itself.
    const response = await fetch(`${idp.authority}/oauth2/v2.0/devicecode`, {
      method: 'POST',
      body: new URLSearchParams({
        client_id: idp.clientIds[0] ?? '',
        scope: 'Foo.ReadEverything openid',
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('shows an error on a wrong password', async () => {
    const context = await newUserContext(browser);
    try {
      const page = await context.newPage();
      const { challenge } = await new CryptoProvider().generatePkceCodes();
      const url = await pca.getAuthCodeUrl({
        scopes: ['User.Read'],
        redirectUri: 'http://localhost:9',
        responseMode: ResponseMode.FORM_POST,
        codeChallenge: challenge,
        codeChallengeMethod: 'S256',
      });
      await page.goto(url);
      const attempt = signInAtIdp(page, { username: alex.username, password: 'not-the-password' });
      await expect(attempt).rejects.toThrow(/Your account or password is incorrect/);
      await expect(page.getByLabel('Username').inputValue()).resolves.toBe(alex.username);
    } finally {
      await context.close();
    }
  });
});
