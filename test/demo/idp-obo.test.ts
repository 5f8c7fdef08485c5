import {
  ConfidentialClientApplication,
  InteractionRequiredAuthError,
  PublicClientApplication,
} from '@azure/msal-node';
import type { AuthenticationResult } from '@azure/msal-node';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msalAuthFor, startTestIdp } from '../support/idp.ts';
import {
  DEMO_CLIENT_ID,
  DEMO_USERS,
  GRAPH_RESOURCE,
  JWT_BEARER_GRANT,
} from '../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../main/demo/idp/index.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const VALET_APP = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const VALET_SECRET = 'valet-remote-secret';
const MCP_URL = 'https://localhost:8443/mcp';
const MCP_SCOPE = `${MCP_URL}/Valet.Use`;

describe('On-behalf-of at the Entra-like IdP, with real MSAL', () => {
  let idp: RunningIdp;
  let middleTier: ConfidentialClientApplication;

  beforeAll(async () => {
    idp = await startTestIdp({
      apis: [
        {
          appId: VALET_APP,
          identifierUris: [`api://${VALET_APP}`, MCP_URL],
          scopes: ['Valet.Use'],
        },
      ],
      confidentialClients: [
        {
          clientId: VALET_APP,
          name: 'MCP Valet',
          redirectUris: ['https://localhost:8443/auth/callback'],
          secret: VALET_SECRET,
        },
      ],
    });
    middleTier = new ConfidentialClientApplication({
      auth: { ...msalAuthFor(idp, VALET_APP), clientSecret: VALET_SECRET },
    });
  });

  afterAll(async () => {
    await idp?.close();
  });

  async function tokenFor(user: IdpUser, scopes: string[]): Promise<string> {
    const pca = new PublicClientApplication({ auth: msalAuthFor(idp, DEMO_CLIENT_ID) });
    let approved: Promise<void> | undefined;
    const result = await pca.acquireTokenByDeviceCode({
      scopes,
      deviceCodeCallback: (response) => {
        approved = idp.approveDeviceCode(response.userCode, user.username);
      },
    });
    await approved;
    return result?.accessToken ?? '';
  }

  function oboRequests(): number {
    return idp.tokenRequests.filter((r) => r.grantType === JWT_BEARER_GRANT).length;
  }

  it('exchanges a user’s API token for a Graph token that names the middle tier, then serves it from MSAL’s cache', async () => {
    await idp.setConsent(adele.username, VALET_APP, [
      'openid',
      'profile',
      'User.Read',
      'Mail.Read',
    ]);
    const assertion = await tokenFor(adele, [MCP_SCOPE]);
    const before = oboRequests();

    const first = (await middleTier.acquireTokenOnBehalfOf({
      oboAssertion: assertion,
      scopes: ['User.Read'],
    })) as AuthenticationResult;
    const { payload } = await jwtVerify(
      first.accessToken,
      createRemoteJWKSet(new URL(idp.jwksUri)),
      { issuer: idp.issuer, audience: GRAPH_RESOURCE },
    );
    expect(payload).toMatchObject({
      aud: GRAPH_RESOURCE,
      azp: VALET_APP,
      appid: VALET_APP,
      oid: adele.id,
      tid: idp.tenantId,
      scp: 'User.Read',
    });
    expect(first.accessToken).not.toBe(assertion);
    expect(oboRequests()).toBe(before + 1);

    const second = (await middleTier.acquireTokenOnBehalfOf({
      oboAssertion: assertion,
      scopes: ['User.Read'],
    })) as AuthenticationResult;
    expect(second.fromCache).toBe(true);
    expect(second.accessToken).toBe(first.accessToken);
    expect(oboRequests()).toBe(before + 1);
  });

  it('refuses an assertion issued for another audience with AADSTS50013', async () => {
    const graphToken = await tokenFor(adele, ['User.Read']);
    const attempt = middleTier.acquireTokenOnBehalfOf({
      oboAssertion: graphToken,
      scopes: ['User.Read'],
    });
    await expect(attempt).rejects.toMatchObject({
      errorCode: 'invalid_grant',
      errorMessage: expect.stringContaining(
        `AADSTS50013: Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${GRAPH_RESOURCE}'`,
      ),
    });
  });

  it('answers consent_required (AADSTS65001) when the user never consented to Graph for the middle tier', async () => {
    const assertion = await tokenFor(alex, [MCP_SCOPE]);
    const attempt = middleTier.acquireTokenOnBehalfOf({
      oboAssertion: assertion,
      scopes: ['Mail.Send'],
    });
    await expect(attempt).rejects.toBeInstanceOf(InteractionRequiredAuthError);
    await expect(attempt).rejects.toMatchObject({
      errorCode: 'invalid_grant',
      subError: 'consent_required',
      errorMessage: expect.stringContaining(
        `AADSTS65001: The user or administrator has not consented to use the application with ID '${VALET_APP}'`,
      ),
    });
  });
});
