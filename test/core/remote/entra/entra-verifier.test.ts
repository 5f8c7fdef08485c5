import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveAuthority } from '../../../../main/core/config/authority.ts';
import { policySchema } from '../../../../main/core/policy/policy-schema.ts';
import {
  CLOCK_TOLERANCE_SECONDS,
  EntraTokenVerifier,
  type EntraVerifierSettings,
} from '../../../../main/core/remote/entra/entra-verifier.ts';
import { entraPrincipal } from '../../../../main/core/remote/entra/principal.ts';
import { DEMO_CLIENT_ID, DEMO_USERS } from '../../../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../../../main/demo/idp/index.ts';
import {
  openIdConfiguration,
  signInByDeviceCode,
  type SignedInClient,
} from '../../../support/entra-api.ts';
import { startTestIdp } from '../../../support/idp.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const VALET_APP = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const VSCODE_CLIENT = 'aebc6443-996d-45c2-90f0-388ff96faa56';
const OTHER_TENANT = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
const PUBLIC_URL = 'https://localhost:8443';
const MCP_URL = `${PUBLIC_URL}/mcp`;
const APP_ID_URI = `api://${VALET_APP}`;
const MCP_SCOPE = `${MCP_URL}/Valet.Use`;
const OTHER_SCOPE = `${MCP_URL}/Other.Read`;

let idp: RunningIdp;
let metadata: string;
let adeleClient: SignedInClient;
let alexClient: SignedInClient;

beforeAll(async () => {
  idp = await startTestIdp({
    clientIds: [DEMO_CLIENT_ID, VSCODE_CLIENT],
    apis: [
      {
        appId: VALET_APP,
        name: 'MCP Valet',
        identifierUris: [APP_ID_URI, MCP_URL],
        scopes: ['Valet.Use', 'Other.Read'],
        preAuthorizedClients: [DEMO_CLIENT_ID, VSCODE_CLIENT],
      },
    ],
  });
  metadata = await openIdConfiguration(idp);
  [adeleClient, alexClient] = await Promise.all([
    signInByDeviceCode(idp, DEMO_CLIENT_ID, adele, [MCP_SCOPE]),
    signInByDeviceCode(idp, DEMO_CLIENT_ID, alex, [MCP_SCOPE]),
  ]);
  await idp.setConsent(adele.username, DEMO_CLIENT_ID, ['openid', 'profile', 'User.Read']);
});

afterAll(async () => {
  await idp?.close();
});

afterEach(() => {
  vi.useRealTimers();
});

function settings(overrides: Partial<EntraVerifierSettings> = {}): EntraVerifierSettings {
  return {
    tenantId: idp.tenantId,
    authority: resolveAuthority(idp.authority),
    apiAudiences: [VALET_APP, APP_ID_URI, MCP_URL],
    apiScope: MCP_SCOPE,
    entraClients: [],
    acceptV1Tokens: false,
    resource: MCP_URL,
    ...overrides,
  };
}

/** A verifier and a count of its JWKS fetches, through the given clock. */
function verifierWith(overrides: Partial<EntraVerifierSettings> = {}, now?: () => Date) {
  const jwksFetches: string[] = [];
  const verifier = new EntraTokenVerifier(settings(overrides), {
    metadata: { json: metadata },
    fetch: (input, init) => {
      jwksFetches.push(String(input));
      return fetch(input, init);
    },
    ...(now && { now }),
  });
  return { verifier, jwksFetches };
}

/** An express app behind the SDK's bearer middleware, answering with the token's principal. */
async function protectedEndpoint(
  verifier: EntraTokenVerifier,
): Promise<{ call: (token: string) => Promise<Response>; close: () => Promise<void> }> {
  const app = express();
  app.post(
    '/mcp',
    requireBearerAuth({
      verifier,
      resourceMetadataUrl: `${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp`,
      expectedResource: new URL(MCP_URL),
    }),
    (req, res) => {
      const auth = (req as typeof req & { auth: Parameters<typeof entraPrincipal>[0] }).auth;
      res.json(entraPrincipal(auth, policySchema.parse({})));
    },
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    call: (token) =>
      fetch(`http://127.0.0.1:${port}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the entra verifier', () => {
  it('accepts a v2 token for the API and names its user, client, scopes, expiry and the protected resource', async () => {
    const { verifier, jwksFetches } = verifierWith();
    const token = adeleClient.accessToken;
    const auth = await verifier.verifyAccessToken(token);
    expect(auth).toEqual({
      token,
      clientId: DEMO_CLIENT_ID,
      scopes: ['Valet.Use'],
      expiresAt: decodeJwt(token).exp,
      resource: new URL(MCP_URL),
      extra: {
        oid: adele.id,
        tid: idp.tenantId,
        name: adele.name,
        username: adele.username,
        roles: adele.roles,
        azp: DEMO_CLIENT_ID,
      },
    });
    // The keys are fetched once, through the fetch given, and kept for later tokens.
    await verifier.verifyAccessToken(alexClient.accessToken);
    expect(jwksFetches).toEqual([idp.jwksUri]);
  });

  it('maps a verified token to a principal whose tools follow the policy and the user’s app roles', async () => {
    const { verifier } = verifierWith();
    const policy = policySchema.parse({
      tools: { send_mail: { requireRole: 'Valet.Mail.Send' }, search_people: { enabled: false } },
    });
    const forAdele = entraPrincipal(
      await verifier.verifyAccessToken(adeleClient.accessToken),
      policy,
    );
    expect(forAdele).toEqual({
      oid: adele.id,
      tid: idp.tenantId,
      homeAccountId: `${adele.id}.${idp.tenantId}`,
      clientId: DEMO_CLIENT_ID,
      // Every tool but the one the policy turns off, in contract order.
      tools: [
        'get_user_details',
        'list_messages',
        'get_message',
        'list_events',
        'search_files',
        'send_mail',
        'create_event',
        'auth_status',
      ],
      readOnly: false,
      roles: ['Valet.Mail.Send'],
    });
    const forAlex = entraPrincipal(
      await verifier.verifyAccessToken(alexClient.accessToken),
      policy,
    );
    expect(forAlex.tools).not.toContain('send_mail');
    expect(forAlex.tools).not.toContain('search_people');
    expect(forAlex.tools).toContain('create_event');
    expect(forAlex).toMatchObject({ oid: alex.id, roles: [], readOnly: false });
  });

  it('lets a v2 token through the SDK’s bearer middleware with the resource check on', async () => {
    const endpoint = await protectedEndpoint(verifierWith().verifier);
    try {
      const response = await endpoint.call(adeleClient.accessToken);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ oid: adele.id, clientId: DEMO_CLIENT_ID });
    } finally {
      await endpoint.close();
    }
  });

  it('refuses, each with its own reason and never the token: wrong audience, v1, expired, foreign-signed, unknown key, wrong tenant and disallowed client get 401; a missing Valet.Use gets 403', async () => {
    const adeleToken = adeleClient.accessToken;
    const claims = decodeJwt(adeleToken);
    const exp = claims.exp as number;
    const graphToken = await adeleClient.token(['User.Read']);
    const otherScopeToken = await adeleClient.token([OTHER_SCOPE]);
    idp.setApiTokenVersion(VALET_APP, 1);
    const v1Token = await adeleClient
      .token([`${APP_ID_URI}/Valet.Use`])
      .finally(() => idp.setApiTokenVersion(VALET_APP, 2));
    const { privateKey } = await generateKeyPair('RS256');
    const forged = (kid: string | undefined) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey);
    const idpKid = decodeProtectedHeader(adeleToken).kid;

    const cases: Array<{
      what: string;
      token: string;
      status: number;
      reason: string;
      overrides?: Partial<EntraVerifierSettings>;
      now?: () => Date;
    }> = [
      {
        what: 'a Graph token',
        token: graphToken,
        status: 401,
        reason: 'The token was issued for another audience than this API',
      },
      {
        what: 'a v1 token',
        token: v1Token,
        status: 401,
        reason: 'The token is an Entra v1 token; this server accepts v2 tokens only',
      },
      {
        what: 'a token past its expiry and the tolerance',
        token: adeleToken,
        status: 401,
        reason: 'The token has expired',
        now: () => new Date((exp + CLOCK_TOLERANCE_SECONDS + 1) * 1000),
      },
      {
        what: 'a token signed by another key under the IdP’s kid',
        token: await forged(idpKid),
        status: 401,
        reason: "The token's signature does not verify with the authority's keys",
      },
      {
        what: 'a token signed by a key the IdP does not publish',
        token: await forged('not-a-published-key'),
        status: 401,
        reason: 'The token is signed with a key the authority does not publish',
      },
      {
        what: 'a token from another tenant',
        token: adeleToken,
        status: 401,
        reason: "The token was issued for another tenant than this server's",
        overrides: { tenantId: OTHER_TENANT },
      },
      {
        what: 'a token for a client not on the allow-list',
        token: adeleToken,
        status: 401,
        reason: 'The token was issued to a client app this server does not allow',
        overrides: { entraClients: [VSCODE_CLIENT] },
      },
      {
        what: 'a token without Valet.Use',
        token: otherScopeToken,
        status: 403,
        reason: 'The token lacks the scope Valet.Use',
      },
    ];
    for (const c of cases) {
      const endpoint = await protectedEndpoint(verifierWith(c.overrides, c.now).verifier);
      try {
        const response = await endpoint.call(c.token);
        const body = (await response.json()) as { error: string; error_description: string };
        const challenge = response.headers.get('www-authenticate') ?? '';
        expect({ what: c.what, status: response.status, error: body.error }).toEqual({
          what: c.what,
          status: c.status,
          error: c.status === 401 ? 'invalid_token' : 'insufficient_scope',
        });
        expect(body.error_description, c.what).toContain(c.reason);
        expect(challenge, c.what).toContain(
          `resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp"`,
        );
        expect(`${challenge} ${body.error_description}`, c.what).not.toContain('eyJ');
      } finally {
        await endpoint.close();
      }
    }
  });

  it('refuses an ID token even for an accepted audience: it names no client app', async () => {
    const { verifier } = verifierWith({ apiAudiences: [DEMO_CLIENT_ID] });
    await expect(verifier.verifyAccessToken(adeleClient.idToken)).rejects.toMatchObject({
      errorCode: 'invalid_token',
      message: 'The token names no client app, so it is not an access token for this API',
    });
  });

  it('accepts the app role in place of the scope only when the configuration names one', async () => {
    const withoutScope = await adeleClient.token([OTHER_SCOPE]);
    await expect(verifierWith().verifier.verifyAccessToken(withoutScope)).rejects.toMatchObject({
      errorCode: 'insufficient_scope',
    });
    const auth = await verifierWith({ appRole: 'Valet.Mail.Send' }).verifier.verifyAccessToken(
      withoutScope,
    );
    expect(auth).toMatchObject({ scopes: ['Other.Read'], extra: { roles: ['Valet.Mail.Send'] } });
  });

  it('answers a server error, not a refusal of the token, while the keys cannot be had', async () => {
    const notLoaded = new EntraTokenVerifier(settings(), { metadata: { json: undefined } });
    await expect(notLoaded.verifyAccessToken(adeleClient.accessToken)).rejects.toMatchObject({
      errorCode: 'server_error',
      message: "The authority's OpenID configuration is not loaded yet, so no token can be checked",
    });
    const warnings: string[] = [];
    const unreachable = new EntraTokenVerifier(settings(), {
      metadata: {
        json: JSON.stringify({ ...JSON.parse(metadata), jwks_uri: 'https://127.0.0.1:1/keys' }),
      },
      logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
    });
    await expect(unreachable.verifyAccessToken(adeleClient.accessToken)).rejects.toMatchObject({
      errorCode: 'server_error',
      message: "The authority's signing keys could not be fetched",
    });
    expect(warnings).toEqual([
      expect.stringMatching(/^The authority's signing keys could not be fetched: /),
    ]);
    expect(warnings.join()).not.toContain('eyJ');
  });

  it('accepts a token just inside the clock tolerance after its expiry', async () => {
    const exp = decodeJwt(adeleClient.accessToken).exp as number;
    const { verifier } = verifierWith(
      {},
      () => new Date((exp + CLOCK_TOLERANCE_SECONDS - 1) * 1000),
    );
    await expect(verifier.verifyAccessToken(adeleClient.accessToken)).resolves.toMatchObject({
      expiresAt: exp,
    });
  });

  it('accepts a v1 token only when the configuration accepts v1 tokens, with its appid as the client', async () => {
    idp.setApiTokenVersion(VALET_APP, 1);
    const v1Token = await adeleClient
      .token([`${APP_ID_URI}/Valet.Use`], true)
      .finally(() => idp.setApiTokenVersion(VALET_APP, 2));
    const auth = await verifierWith({ acceptV1Tokens: true }).verifier.verifyAccessToken(v1Token);
    expect(auth).toMatchObject({
      clientId: DEMO_CLIENT_ID,
      scopes: ['Valet.Use'],
      extra: { oid: adele.id, tid: idp.tenantId, azp: DEMO_CLIENT_ID },
    });
  });

  it('follows a key rollover: a token signed with the new key verifies once the JWKS is fetched again', async () => {
    const { verifier, jwksFetches } = verifierWith();
    await verifier.verifyAccessToken(adeleClient.accessToken);
    const newKid = await idp.rotateSigningKey();
    const after = await adeleClient.token([MCP_SCOPE], true);
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    // jose asks the JWKS again for an unknown key at most every 30 s; move the clock past that.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 31_000 });
    await expect(verifier.verifyAccessToken(after)).resolves.toMatchObject({
      extra: { oid: adele.id },
    });
    expect(jwksFetches).toEqual([idp.jwksUri, idp.jwksUri]);
    // The token signed before the rollover still verifies with the cached keys.
    await verifier.verifyAccessToken(adeleClient.accessToken);
    expect(jwksFetches).toHaveLength(2);
  });

  it('remembers an accepted token only until it expires: the same token past its expiry is refused as expired', async () => {
    const exp = decodeJwt(adeleClient.accessToken).exp as number;
    let now = new Date();
    const { verifier } = verifierWith({}, () => now);
    await verifier.verifyAccessToken(adeleClient.accessToken);
    now = new Date((exp + CLOCK_TOLERANCE_SECONDS - 1) * 1000);
    await expect(verifier.verifyAccessToken(adeleClient.accessToken)).resolves.toMatchObject({
      token: adeleClient.accessToken,
      extra: { oid: adele.id },
    });
    now = new Date((exp + CLOCK_TOLERANCE_SECONDS + 1) * 1000);
    await expect(verifier.verifyAccessToken(adeleClient.accessToken)).rejects.toThrow(
      'The token has expired',
    );
  });

  it('checks afresh a token that differs from an accepted one in its signature alone', async () => {
    const { verifier } = verifierWith();
    await verifier.verifyAccessToken(adeleClient.accessToken);
    const [header, payload, signature] = adeleClient.accessToken.split('.') as [
      string,
      string,
      string,
    ];
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    await expect(verifier.verifyAccessToken(`${header}.${payload}.${flipped}`)).rejects.toThrow(
      "The token's signature does not verify with the authority's keys",
    );
  });

  it('answers each verified token with its own user: a remembered token never stands in for another', async () => {
    const { verifier } = verifierWith();
    for (let round = 0; round < 2; round++) {
      await expect(verifier.verifyAccessToken(adeleClient.accessToken)).resolves.toMatchObject({
        token: adeleClient.accessToken,
        extra: { oid: adele.id },
      });
      await expect(verifier.verifyAccessToken(alexClient.accessToken)).resolves.toMatchObject({
        token: alexClient.accessToken,
        extra: { oid: alex.id },
      });
    }
  });
});
