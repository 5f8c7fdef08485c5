import { InteractionRequiredAuthError, PublicClientApplication } from '@azure/msal-node';
import type { AccountInfo, AuthenticationResult } from '@azure/msal-node';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msalAuthFor, startTestIdp } from '../support/idp.ts';
import { DEMO_CLIENT_ID, DEMO_USERS } from '../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../main/demo/idp/index.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const VALET_APP = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const VSCODE_CLIENT = 'aebc6443-996d-45c2-90f0-388ff96faa56';
const MCP_URL = 'https://localhost:8443/mcp';
const APP_ID_URI = `api://${VALET_APP}`;
const MCP_SCOPE = `${MCP_URL}/Valet.Use`;

describe('An API app at the Entra-like IdP, with real MSAL', () => {
  let idp: RunningIdp;
  const apps = new Map<string, PublicClientApplication>();

  beforeAll(async () => {
    idp = await startTestIdp({
      clientIds: [DEMO_CLIENT_ID, VSCODE_CLIENT],
      apis: [
        {
          appId: VALET_APP,
          name: 'MCP Valet',
          identifierUris: [APP_ID_URI, MCP_URL],
          scopes: ['Valet.Use'],
          preAuthorizedClients: [VSCODE_CLIENT],
        },
      ],
    });
  });

  afterAll(async () => {
    await idp?.close();
  });

  function app(clientId: string): PublicClientApplication {
    let pca = apps.get(clientId);
    if (!pca) {
      pca = new PublicClientApplication({ auth: msalAuthFor(idp, clientId) });
      apps.set(clientId, pca);
    }
    return pca;
  }

  /** Signs the user in to a client by device code, approved at the IdP as the user. */
  async function deviceCode(
    clientId: string,
    user: IdpUser,
    scopes: string[],
  ): Promise<AuthenticationResult> {
    let approved: Promise<void> | undefined;
    const result = await app(clientId).acquireTokenByDeviceCode({
      scopes,
      deviceCodeCallback: (response) => {
        approved = idp.approveDeviceCode(response.userCode, user.username);
      },
    });
    await approved;
    if (!result) throw new Error('No device code result');
    return result;
  }

  async function verify(
    token: string,
    expected: { issuer: string; audience: string },
  ): Promise<Record<string, unknown>> {
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(idp.jwksUri)), expected);
    return payload;
  }

  let adeleAccount: AccountInfo;

  it('gives a public client a v2 token for the API: aud is the app ID, scp the scope name, azp the client', async () => {
    const result = await deviceCode(DEMO_CLIENT_ID, adele, [MCP_SCOPE]);
    expect(result.scopes).toContain(MCP_SCOPE);
    const claims = await verify(result.accessToken, { issuer: idp.issuer, audience: VALET_APP });
    expect(claims).toMatchObject({
      aud: VALET_APP,
      iss: `${idp.authority}/v2.0`,
      scp: 'Valet.Use',
      azp: DEMO_CLIENT_ID,
      azpacr: '0',
      ver: '2.0',
      tid: idp.tenantId,
      oid: adele.id,
      roles: adele.roles,
    });
    expect(claims).not.toHaveProperty('appid');
    adeleAccount = result.account as AccountInfo;
  });

  it('issues v1 tokens once the API asks for them: aud is the App ID URI, iss sts.windows.net, appid the client', async () => {
    idp.setApiTokenVersion(VALET_APP, 1);
    try {
      const result = await app(DEMO_CLIENT_ID).acquireTokenSilent({
        account: adeleAccount,
        scopes: [`${APP_ID_URI}/Valet.Use`],
      });
      expect(result.fromCache).toBe(false);
      const claims = await verify(result.accessToken, {
        issuer: `https://sts.windows.net/${idp.tenantId}/`,
        audience: APP_ID_URI,
      });
      expect(claims).toMatchObject({
        scp: 'Valet.Use',
        appid: DEMO_CLIENT_ID,
        appidacr: '0',
        ver: '1.0',
        tid: idp.tenantId,
        oid: adele.id,
      });
      expect(claims).not.toHaveProperty('azp');
    } finally {
      idp.setApiTokenVersion(VALET_APP, 2);
    }
  });

  it('refuses a resource that is not an identifier URI of the scopes’ app with invalid_target AADSTS9010010', async () => {
    const ask = (resource: string, scope: string) =>
      fetch(`${idp.authority}/oauth2/v2.0/devicecode`, {
        method: 'POST',
        body: new URLSearchParams({ client_id: DEMO_CLIENT_ID, scope, resource }),
      });
    for (const [resource, scope] of [
      ['https://graph.microsoft.com', MCP_SCOPE],
      ['https://localhost:8443/other', MCP_SCOPE],
      [MCP_URL, 'User.Read'],
    ] as const) {
      const refused = await ask(resource, `${scope} openid`);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({
        error: 'invalid_target',
        error_description: expect.stringContaining(
          "AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes.",
        ),
      });
    }
    // Any identifier URI of the app that owns the scope will do, as the MCP spec needs.
    const accepted = await ask(MCP_URL, `${APP_ID_URI}/Valet.Use openid`);
    expect(accepted.status).toBe(200);

    // The authorization endpoint sends the same error back to the app's redirect URI.
    const url = await app(DEMO_CLIENT_ID).getAuthCodeUrl({
      scopes: [MCP_SCOPE],
      redirectUri: 'http://localhost:9',
      codeChallenge: 'x'.repeat(43),
      codeChallengeMethod: 'S256',
      extraQueryParameters: { resource: 'https://graph.microsoft.com' },
    });
    const redirect = await fetch(url, { redirect: 'manual' });
    const location = new URL(redirect.headers.get('location') ?? 'http://invalid');
    expect(location.origin).toBe('http://localhost:9');
    expect(location.searchParams.get('error')).toBe('invalid_target');
    expect(location.searchParams.get('error_description')).toContain('AADSTS9010010');
  });

  it('needs the user’s consent (AADSTS65001) for a client that is not pre-authorized, and none for one that is', async () => {
    const signedIn = await deviceCode(DEMO_CLIENT_ID, alex, ['User.Read']);
    const account = signedIn.account as AccountInfo;
    const silent = app(DEMO_CLIENT_ID).acquireTokenSilent({ account, scopes: [MCP_SCOPE] });
    await expect(silent).rejects.toBeInstanceOf(InteractionRequiredAuthError);
    await expect(silent).rejects.toMatchObject({
      subError: 'consent_required',
      errorMessage: expect.stringContaining(
        `AADSTS65001: The user or administrator has not consented to use the application with ID '${DEMO_CLIENT_ID}'`,
      ),
    });

    // Once the user consents, the same refresh token redeems the API scope.
    await idp.setConsent(alex.username, DEMO_CLIENT_ID, [
      'openid',
      'profile',
      'User.Read',
      MCP_SCOPE,
    ]);
    const consented = await app(DEMO_CLIENT_ID).acquireTokenSilent({
      account,
      scopes: [MCP_SCOPE],
    });
    expect(
      await verify(consented.accessToken, { issuer: idp.issuer, audience: VALET_APP }),
    ).toMatchObject({ oid: alex.id, azp: DEMO_CLIENT_ID });

    // VS Code is pre-authorized on the API: no consent was ever given for it.
    const vscode = await deviceCode(VSCODE_CLIENT, alex, ['User.Read']);
    const preAuthorized = await app(VSCODE_CLIENT).acquireTokenSilent({
      account: vscode.account as AccountInfo,
      scopes: [MCP_SCOPE],
    });
    expect(
      await verify(preAuthorized.accessToken, { issuer: idp.issuer, audience: VALET_APP }),
    ).toMatchObject({ oid: alex.id, azp: VSCODE_CLIENT, scp: 'Valet.Use' });
  });

  it('signs with a new key after rotateSigningKey while the JWKS still lists the previous one', async () => {
    const before = await app(DEMO_CLIENT_ID).acquireTokenSilent({
      account: adeleAccount,
      scopes: [MCP_SCOPE],
      forceRefresh: true,
    });
    const oldKid = decodeProtectedHeader(before.accessToken).kid;
    const newKid = await idp.rotateSigningKey();
    expect(newKid).not.toBe(oldKid);
    const after = await app(DEMO_CLIENT_ID).acquireTokenSilent({
      account: adeleAccount,
      scopes: [MCP_SCOPE],
      forceRefresh: true,
    });
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(newKid);
    const jwks = (await (await fetch(idp.jwksUri)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((key) => key.kid)).toEqual([newKid, oldKid]);
    // Tokens from before the rollover still verify; so do the new ones.
    for (const token of [before.accessToken, after.accessToken]) {
      await verify(token, { issuer: idp.issuer, audience: VALET_APP });
    }
  });
});
