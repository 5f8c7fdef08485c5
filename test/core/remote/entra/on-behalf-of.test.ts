import { randomBytes } from 'node:crypto';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveAuthority } from '../../../../main/core/config/authority.ts';
import { cacheKeyOf, type CacheKeys } from '../../../../main/core/remote/cache-keys.ts';
import type { MsalCredential } from '../../../../main/core/remote/credentials.ts';
import { EntraTokenVerifier } from '../../../../main/core/remote/entra/entra-verifier.ts';
import { GraphGrantRequiredError } from '../../../../main/core/remote/entra/graph-grant-error.ts';
import { OnBehalfOfGraphTokens } from '../../../../main/core/remote/entra/on-behalf-of.ts';
import { oboPartitionKey } from '../../../../main/core/remote/shared-token-cache.ts';
import { MemoryBacking } from '../../../../main/core/remote/store/memory-backing.ts';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';
import {
  DEMO_CLIENT_ID,
  DEMO_USERS,
  GRAPH_RESOURCE,
  JWT_BEARER_GRANT,
} from '../../../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../../../main/demo/idp/index.ts';
import { JWT_SHAPE } from '../../../support/remote-server.ts';
import { createClientCertificate } from '../../../support/client-certificate.ts';
import type { ClientCertificate } from '../../../support/client-certificate.ts';
import {
  openIdConfiguration,
  recordingStore,
  signInByDeviceCode,
} from '../../../support/entra-api.ts';
import { startTestIdp } from '../../../support/idp.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const SECRET_APP = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const CERT_APP = '6b2f3c4d-5e6f-4071-9b8c-0d1e2f3a4b5c';
const SECRET = 'valet-remote-secret';
const PUBLIC_URL = 'https://localhost:8443';
const keys: CacheKeys = { current: cacheKeyOf(randomBytes(32)) };

let idp: RunningIdp;
let metadata: string;
let certificate: ClientCertificate;
const stores: MemoryStore[] = [];

beforeAll(async () => {
  certificate = await createClientCertificate();
  idp = await startTestIdp({
    apis: [SECRET_APP, CERT_APP].map((appId) => ({
      appId,
      identifierUris: [`api://${appId}`],
      scopes: ['Valet.Use'],
      preAuthorizedClients: [DEMO_CLIENT_ID],
    })),
    confidentialClients: [
      {
        clientId: SECRET_APP,
        name: 'MCP Valet (secret)',
        redirectUris: [`${PUBLIC_URL}/auth/callback`],
        secret: SECRET,
      },
      {
        clientId: CERT_APP,
        name: 'MCP Valet (certificate)',
        redirectUris: [`${PUBLIC_URL}/auth/callback`],
        certificates: [certificate.certPem],
      },
    ],
  });
  metadata = await openIdConfiguration(idp);
  for (const app of [SECRET_APP, CERT_APP])
    await idp.setConsent(adele.username, app, ['openid', 'profile', 'User.Read', 'Mail.Read']);
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await idp?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

function newStore(backing?: MemoryBacking): MemoryStore {
  const store = new MemoryStore(backing ? { backing } : {});
  stores.push(store);
  return store;
}

/** One server instance's on-behalf-of tokens for a middle tier, over a store. */
function middleTier(
  clientId: string,
  credential: MsalCredential,
  store: MemoryStore,
): OnBehalfOfGraphTokens {
  return new OnBehalfOfGraphTokens({
    clientId,
    authority: resolveAuthority(idp.authority),
    authorityMetadata: { json: metadata },
    credential,
    store,
    cacheKeys: keys,
    publicUrl: PUBLIC_URL,
  });
}

/** The user's token for the middle tier's API, checked as entra mode checks it. */
async function verifiedCaller(user: IdpUser, appId: string): Promise<AuthInfo> {
  const scope = `api://${appId}/Valet.Use`;
  const { accessToken } = await signInByDeviceCode(idp, DEMO_CLIENT_ID, user, [scope]);
  const verifier = new EntraTokenVerifier(
    {
      tenantId: idp.tenantId,
      authority: resolveAuthority(idp.authority),
      apiAudiences: [appId, `api://${appId}`],
      apiScope: scope,
      entraClients: [],
      acceptV1Tokens: false,
      resource: `${PUBLIC_URL}/mcp`,
    },
    { metadata: { json: metadata } },
  );
  return verifier.verifyAccessToken(accessToken);
}

function oboRequests(): number {
  return idp.tokenRequests.filter((r) => r.grantType === JWT_BEARER_GRANT).length;
}

async function graphClaims(token: string): Promise<Record<string, unknown>> {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(idp.jwksUri)), {
    issuer: idp.issuer,
    audience: GRAPH_RESOURCE,
  });
  return payload;
}

/** Every request MSAL sends while `run` runs: where it went, and whether it carried `secret`. */
async function watchingRequests<T>(
  secret: string,
  run: () => Promise<T>,
): Promise<{ result: T; requests: Array<{ url: string; carries: boolean }> }> {
  const requests: Array<{ url: string; carries: boolean }> = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const text = `${url} ${JSON.stringify(init?.headers ?? {})} ${typeof init?.body === 'string' ? init.body : ''}`;
    const { origin, pathname } = new URL(url);
    requests.push({ url: `${origin}${pathname}`, carries: text.includes(secret) });
    return realFetch(input, init);
  });
  try {
    return { result: await run(), requests };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('on-behalf-of Graph tokens in entra mode', () => {
  it('exchanges the caller’s token for a Graph token issued to the middle tier (client secret), sending it to the token endpoint only and asking for no discovery', async () => {
    const caller = await verifiedCaller(adele, SECRET_APP);
    const tokens = middleTier(SECRET_APP, { clientSecret: SECRET }, newStore());
    const before = oboRequests();

    const { result: graph, requests } = await watchingRequests(caller.token, () =>
      tokens.forRequest(caller).getToken({ scopes: ['User.Read'] }),
    );
    expect(graph.fromCache).toBe(false);
    expect(oboRequests()).toBe(before + 1);
    expect(await graphClaims(graph.accessToken)).toMatchObject({
      aud: GRAPH_RESOURCE,
      azp: SECRET_APP,
      appid: SECRET_APP,
      oid: adele.id,
      scp: 'User.Read',
    });
    expect(graph.accessToken).not.toBe(caller.token);
    // One request went out: the exchange at the token endpoint, with the caller's token in it.
    expect(requests).toEqual([{ url: `${idp.authority}/oauth2/v2.0/token`, carries: true }]);
  });

  it('asks the IdP once per assertion: a later request and another instance over the same store get the Graph token from the sealed cache', async () => {
    const caller = await verifiedCaller(adele, SECRET_APP);
    const backing = new MemoryBacking();
    const { store, written } = recordingStore(newStore(backing));
    const instanceA = middleTier(SECRET_APP, { clientSecret: SECRET }, store);
    const before = oboRequests();

    const first = await instanceA.forRequest(caller).getToken({ scopes: ['User.Read'] });
    const again = await instanceA.forRequest(caller).getToken({ scopes: ['User.Read'] });
    const instanceB = middleTier(SECRET_APP, { clientSecret: SECRET }, newStore(backing));
    const onB = await instanceB.forRequest(caller).getToken({ scopes: ['User.Read'] });

    expect(oboRequests()).toBe(before + 1);
    expect([again.fromCache, onB.fromCache]).toEqual([true, true]);
    expect(again.accessToken).toBe(first.accessToken);
    expect(onB.accessToken).toBe(first.accessToken);

    // The partition is named by the assertion's hash and kept no longer than the assertion.
    const partition = oboPartitionKey(caller.token);
    const ttlMs = (await store.ttl(partition)) ?? 0;
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual((caller.expiresAt as number) * 1000 - Date.now() + 1000);
    // Nothing readable was written: no JWT, no piece of either token, no user.
    expect(written.length).toBeGreaterThan(0);
    for (const value of written) {
      // Case-sensitive JWT shape: a lone `eyJ`, any case, turns up in random ciphertext.
      expect(value).not.toMatch(JWT_SHAPE);
      expect(value).not.toMatch(/adele|refresh/i);
      expect(value).not.toContain(caller.token.slice(-40));
      expect(value).not.toContain(first.accessToken.slice(-40));
    }
  });

  it('exchanges with a certificate credential: the Graph token names the certificate’s app, never the caller’s client', async () => {
    const caller = await verifiedCaller(adele, CERT_APP);
    const tokens = middleTier(
      CERT_APP,
      {
        clientCertificate: {
          thumbprintSha256: certificate.thumbprintSha256,
          privateKey: certificate.privateKey,
        },
      },
      newStore(),
    );
    const before = oboRequests();
    const graph = await tokens.forRequest(caller).getToken({ scopes: ['Mail.Read'] });
    expect(oboRequests()).toBe(before + 1);
    const claims = await graphClaims(graph.accessToken);
    expect(claims).toMatchObject({
      azp: CERT_APP,
      appid: CERT_APP,
      oid: adele.id,
      scp: 'Mail.Read',
    });
    expect(Object.values(claims)).not.toContain(DEMO_CLIENT_ID);
  });

  it('shares one exchange between calls of one request for the same scopes', async () => {
    const caller = await verifiedCaller(adele, SECRET_APP);
    const source = middleTier(SECRET_APP, { clientSecret: SECRET }, newStore()).forRequest(caller);
    const before = oboRequests();
    const [a, b] = await Promise.all([
      source.getToken({ scopes: ['User.Read', 'Mail.Read'] }),
      source.getToken({ scopes: ['Mail.Read', 'User.Read'] }),
    ]);
    expect(a.accessToken).toBe(b.accessToken);
    expect(oboRequests()).toBe(before + 1);
  });

  it('remembers a recent exchange in the instance, so the next request of that client reads nothing from the store; a forced refresh asks again', async () => {
    const caller = await verifiedCaller(adele, SECRET_APP);
    const store = newStore();
    const tokens = middleTier(SECRET_APP, { clientSecret: SECRET }, store);
    const first = await tokens.forRequest(caller).getToken({ scopes: ['User.Read'] });
    const before = oboRequests();
    // With the store gone, only the instance's memory can answer.
    await store.close();
    const next = await tokens.forRequest(caller).getToken({ scopes: ['User.Read'] });
    expect(next).toMatchObject({ accessToken: first.accessToken, fromCache: true });
    expect(oboRequests()).toBe(before);
    // Another assertion, or a refresh the caller forces, is not answered from memory.
    await expect(
      tokens.forRequest(caller).getToken({ scopes: ['User.Read'], forceRefresh: true }),
    ).rejects.toThrow(/closed/);
    const other = await verifiedCaller(adele, SECRET_APP);
    expect(other.token).not.toBe(caller.token);
    await expect(tokens.forRequest(other).getToken({ scopes: ['User.Read'] })).rejects.toThrow(
      /closed/,
    );
  });

  it('without the user’s Graph consent, fails with the scopes and the grant page to open, never a token', async () => {
    const caller = await verifiedCaller(alex, SECRET_APP);
    const attempt = middleTier(SECRET_APP, { clientSecret: SECRET }, newStore())
      .forRequest(caller)
      .getToken({ scopes: ['Mail.Send'] });
    const error = await attempt.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(GraphGrantRequiredError);
    const grant = error as GraphGrantRequiredError;
    expect(grant).toMatchObject({
      code: 'consent_required',
      scopes: ['Mail.Send'],
      url: `${PUBLIC_URL}/auth/grant?scopes=Mail.Send`,
    });
    expect(grant.message).toBe(
      `Microsoft Graph has no consent for Mail.Send on your behalf: open ${PUBLIC_URL}/auth/grant?scopes=Mail.Send to grant it, then call the tool again`,
    );
    expect(grant.message).not.toContain('eyJ');
    expect(decodeJwt(caller.token).oid).toBe(alex.id);
  });
});
