import { randomUUID } from 'node:crypto';
import { ConfidentialClientApplication, CryptoProvider, ServerError } from '@azure/msal-node';
import type { NodeAuthOptions } from '@azure/msal-node';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newUserContext, signInAtIdp } from '../support/browser.ts';
import { createClientCertificate } from '../support/client-certificate.ts';
import type { ClientCertificate } from '../support/client-certificate.ts';
import { msalAuthFor, startTestIdp } from '../support/idp.ts';
import { startWebCallback } from '../support/web-callback.ts';
import type { WebCallback } from '../support/web-callback.ts';
import { DEMO_USERS, GRAPH_RESOURCE } from '../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../main/demo/idp/index.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const SECRET_APP = '5a1e2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const CERT_APP = '6b2f3c4d-5e6f-4071-9b8c-0d1e2f3a4b5c';
const ADMIN_CONSENTED_APP = '7c3a4d5e-6f70-4182-8c9d-1e2f3a4b5c6d';
const SECRET = 'web-app-secret-value';

describe('Confidential web apps at the Entra-like IdP, with real MSAL', () => {
  let idp: RunningIdp;
  let browser: Browser;
  let callback: WebCallback;
  let certificate: ClientCertificate;
  let secondCertificate: ClientCertificate;

  beforeAll(async () => {
    [callback, certificate, secondCertificate, browser] = await Promise.all([
      startWebCallback(),
      createClientCertificate(),
      createClientCertificate('MCP Valet test app, next certificate'),
      launchBrowser(),
    ]);
    idp = await startTestIdp({
      confidentialClients: [
        {
          clientId: SECRET_APP,
          name: 'Valet web (secret)',
          redirectUris: [callback.redirectUri],
          secret: SECRET,
        },
        {
          clientId: CERT_APP,
          name: 'Valet web (certificate)',
          redirectUris: [callback.redirectUri],
          certificates: [certificate.certPem, secondCertificate.certPem],
        },
        {
          clientId: ADMIN_CONSENTED_APP,
          name: 'Valet web (admin consented)',
          redirectUris: [callback.redirectUri],
          secret: SECRET,
          adminConsentedScopes: ['User.Read', 'Mail.Read'],
        },
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await idp?.close();
    await callback?.close();
  });

  function webApp(auth: Omit<NodeAuthOptions, 'clientId'> & { clientId: string }) {
    return new ConfidentialClientApplication({
      auth: { ...msalAuthFor(idp, auth.clientId), ...auth },
    });
  }

  /** The web sign-in a server does: auth code + PKCE + nonce, the code redeemed with both. */
  async function signInThroughWebApp(
    cca: ConfidentialClientApplication,
    user: IdpUser,
    { consent = true } = {},
  ) {
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const nonce = randomUUID();
    const state = randomUUID();
    const url = await cca.getAuthCodeUrl({
      scopes: ['User.Read'],
      redirectUri: callback.redirectUri,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      nonce,
      state,
    });
    const context = await newUserContext(browser);
    try {
      const page = await context.newPage();
      const arrived = callback.next();
      await page.goto(url);
      await signInAtIdp(page, user, { consent });
      const query = await arrived;
      expect(query.get('state')).toBe(state);
      const result = await cca.acquireTokenByCode({
        code: query.get('code') ?? '',
        scopes: ['User.Read'],
        redirectUri: callback.redirectUri,
        codeVerifier: verifier,
        nonce,
        state,
      });
      return { result, nonce };
    } finally {
      await context.close();
    }
  }

  async function graphClaims(token: string): Promise<Record<string, unknown>> {
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(idp.jwksUri)), {
      issuer: idp.issuer,
      audience: GRAPH_RESOURCE,
    });
    return payload;
  }

  it('signs a user in to a web app with a client secret through auth code + PKCE + nonce', async () => {
    const before = idp.tokenRequests.length;
    const { result, nonce } = await signInThroughWebApp(
      webApp({ clientId: SECRET_APP, clientSecret: SECRET }),
      adele,
    );
    expect(result.idTokenClaims).toMatchObject({ nonce, oid: adele.id, aud: SECRET_APP });
    expect(result.account?.homeAccountId).toBe(`${adele.id}.${idp.tenantId}`);
    expect(await graphClaims(result.accessToken)).toMatchObject({
      oid: adele.id,
      azp: SECRET_APP,
      appid: SECRET_APP,
    });
    expect(idp.tokenRequests.slice(before)).toMatchObject([
      { grantType: 'authorization_code', clientId: SECRET_APP },
    ]);
  });

  it('signs a user in to a web app whose certificate signs the client assertion (x5t#S256, no kid)', async () => {
    const { result, nonce } = await signInThroughWebApp(
      webApp({
        clientId: CERT_APP,
        clientCertificate: {
          thumbprintSha256: certificate.thumbprintSha256,
          privateKey: certificate.privateKey,
        },
      }),
      alex,
    );
    expect(result.idTokenClaims).toMatchObject({ nonce, oid: alex.id, aud: CERT_APP });
    expect(await graphClaims(result.accessToken)).toMatchObject({ oid: alex.id, azp: CERT_APP });
  });

  it('lets a web app an admin consented to for Graph sign users in without a consent prompt, and redeem its refresh token for any of those scopes', async () => {
    const cca = webApp({ clientId: ADMIN_CONSENTED_APP, clientSecret: SECRET });
    const { result } = await signInThroughWebApp(cca, adele, { consent: false });
    const before = idp.tokenRequests.length;
    const mail = await cca.acquireTokenSilent({
      account: result.account!,
      scopes: ['Mail.Read'],
    });
    expect(idp.tokenRequests.slice(before)).toMatchObject([
      { grantType: 'refresh_token', clientId: ADMIN_CONSENTED_APP },
    ]);
    expect(String((await graphClaims(mail.accessToken)).scp).split(' ')).toContain('Mail.Read');
    // Beyond what the admin consented to, the user's own consent is still needed.
    await expect(
      cca.acquireTokenSilent({ account: result.account!, scopes: ['Mail.Send'] }),
    ).rejects.toThrow(/AADSTS65001/);
  });

  it('refuses a wrong client secret with AADSTS7000215', async () => {
    const attempt = webApp({
      clientId: SECRET_APP,
      clientSecret: 'not-the-secret',
    }).acquireTokenByCode({
      code: 'any-code',
      scopes: ['User.Read'],
      redirectUri: callback.redirectUri,
    });
    await expect(attempt).rejects.toBeInstanceOf(ServerError);
    await expect(attempt).rejects.toMatchObject({
      errorCode: 'invalid_client',
      errorMessage: expect.stringContaining('AADSTS7000215: Invalid client secret provided'),
    });
  });

  it('refuses a certificate the app does not have with AADSTS700027 naming its thumbprint', async () => {
    const stranger = await createClientCertificate('Someone else');
    const attempt = webApp({
      clientId: CERT_APP,
      clientCertificate: {
        thumbprintSha256: stranger.thumbprintSha256,
        privateKey: stranger.privateKey,
      },
    }).acquireTokenByCode({
      code: 'any-code',
      scopes: ['User.Read'],
      redirectUri: callback.redirectUri,
    });
    const thumbprint = Buffer.from(stranger.thumbprintSha256, 'hex').toString('base64url');
    await expect(attempt).rejects.toMatchObject({
      errorCode: 'invalid_client',
      errorMessage: expect.stringContaining(
        `AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}'`,
      ),
    });
  });

  it('refuses an assertion whose header names one registered certificate while the other one signed it', async () => {
    const attempt = webApp({
      clientId: CERT_APP,
      clientCertificate: {
        thumbprintSha256: certificate.thumbprintSha256,
        privateKey: secondCertificate.privateKey,
      },
    }).acquireTokenByCode({
      code: 'any-code',
      scopes: ['User.Read'],
      redirectUri: callback.redirectUri,
    });
    await expect(attempt).rejects.toMatchObject({
      errorCode: 'invalid_client',
      errorMessage: expect.stringContaining(
        'AADSTS700027: Client assertion failed signature validation.',
      ),
    });
  });

  it('accepts only the exact registered redirect URI', async () => {
    const url = await webApp({ clientId: SECRET_APP, clientSecret: SECRET }).getAuthCodeUrl({
      scopes: ['User.Read'],
      redirectUri: `${callback.redirectUri}/elsewhere`,
      codeChallenge: 'x'.repeat(43),
      codeChallengeMethod: 'S256',
    });
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('redirect_uri');
  });
});
