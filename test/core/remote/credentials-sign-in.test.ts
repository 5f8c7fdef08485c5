import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRemoteConfig } from '../../../main/core/remote/remote-config.ts';
import { buildMsalCredential } from '../../../main/core/remote/credentials.ts';
import {
  DEMO_USERS,
  GRAPH_RESOURCE,
  TOKEN_EXCHANGE_AUDIENCE,
  createFederatedIssuer,
  startManagedIdentityEndpoint,
} from '../../../main/demo/idp/index.ts';
import type {
  FederatedTokenIssuer,
  IdpUser,
  RunningIdp,
  RunningManagedIdentityEndpoint,
} from '../../../main/demo/idp/index.ts';
import { launchBrowser } from '../../support/browser.ts';
import { createClientCertificate } from '../../support/client-certificate.ts';
import type { ClientCertificate } from '../../support/client-certificate.ts';
import { signInThroughWebApp } from '../../support/confidential-sign-in.ts';
import { startTestIdp } from '../../support/idp.ts';
import { startWebCallback } from '../../support/web-callback.ts';
import type { WebCallback } from '../../support/web-callback.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const SECRET_APP = '0f1e2d3c-4b5a-4697-8877-665544332211';
const CERT_APP = '1a2b3c4d-5e6f-4a0b-9c1d-2e3f4a5b6c7d';
const WORKLOAD_APP = '2b3c4d5e-6f70-4b1c-8d2e-3f4a5b6c7d8e';
const MANAGED_APP = '3c4d5e6f-7081-4c2d-9e3f-4a5b6c7d8e9f';
const SECRET = 'web-app-secret-value';
const SERVICE_ACCOUNT = 'system:serviceaccount:valet:mcp-valet';
/** The host's system-assigned identity and a user-assigned one, as App Service would have. */
const SYSTEM_IDENTITY = {
  clientId: '4d5e6f70-8192-4d3e-8f4a-5b6c7d8e9fa0',
  objectId: '5e6f7081-92a3-4e4f-9a5b-6c7d8e9fa0b1',
  systemAssigned: true,
};
const USER_IDENTITY = {
  clientId: '6f708192-a3b4-4f5a-8b6c-7d8e9fa0b1c2',
  objectId: '708192a3-b4c5-4a6b-9c7d-8e9fa0b1c2d3',
};
/** MSAL's ManagedIdentityApplication reads these from process.env, nowhere else. */
const PLATFORM_VARIABLES = ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'IDENTITY_SERVER_THUMBPRINT'];

describe('Each client credential signs a user in for real at the demo IdP', () => {
  let idp: RunningIdp;
  let browser: Browser;
  let callback: WebCallback;
  let cluster: FederatedTokenIssuer;
  let platform: FederatedTokenIssuer;
  let identityEndpoint: RunningManagedIdentityEndpoint;
  let dir: string;
  let certFile: string;
  const savedEnvironment = new Map<string, string | undefined>();

  beforeAll(async () => {
    let certificate: ClientCertificate;
    [callback, certificate, browser, cluster, platform, dir] = await Promise.all([
      startWebCallback(),
      createClientCertificate('MCP Valet remote'),
      launchBrowser(),
      createFederatedIssuer('https://oidc.cluster.test/valet'),
      createFederatedIssuer('https://managed-identity.test/tenant/v2.0'),
      mkdtemp(join(tmpdir(), 'valet-credentials-sign-in-')),
    ]);
    certFile = join(dir, 'app.pem');
    await writeFile(certFile, `${certificate.certPem}${certificate.privateKey}`, { mode: 0o600 });
    identityEndpoint = await startManagedIdentityEndpoint({
      issuer: platform,
      identities: [SYSTEM_IDENTITY, USER_IDENTITY],
    });
    const fic = (issuer: FederatedTokenIssuer, subject: string) => ({
      issuer: issuer.issuer,
      subject,
      audiences: [TOKEN_EXCHANGE_AUDIENCE],
    });
    const web = (clientId: string, name: string) => ({
      clientId,
      name,
      redirectUris: [callback.redirectUri],
    });
    idp = await startTestIdp({
      confidentialClients: [
        { ...web(SECRET_APP, 'Valet (secret)'), secret: SECRET },
        { ...web(CERT_APP, 'Valet (certificate)'), certificates: [certificate.certPem] },
        {
          ...web(WORKLOAD_APP, 'Valet (workload identity)'),
          federatedCredentials: [fic(cluster, SERVICE_ACCOUNT)],
        },
        {
          ...web(MANAGED_APP, 'Valet (managed identity)'),
          federatedCredentials: [
            fic(platform, SYSTEM_IDENTITY.objectId),
            fic(platform, USER_IDENTITY.objectId),
          ],
        },
      ],
      federatedIssuers: [cluster, platform],
    });
    // MSAL picks its managed identity source from process.env on first use and keeps it for
    // the process, so App Service's variables are set here, before any test, and put back after.
    for (const name of PLATFORM_VARIABLES) savedEnvironment.set(name, process.env[name]);
    delete process.env.IDENTITY_SERVER_THUMBPRINT;
    Object.assign(process.env, identityEndpoint.environment());
  });

  afterAll(async () => {
    for (const [name, value] of savedEnvironment) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await browser?.close();
    await idp?.close();
    await identityEndpoint?.close();
    await callback?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The web app as `serve --remote` builds its credential: from the admin's variables. */
  async function appConfiguredWith(variables: Record<string, string>) {
    const config = await loadRemoteConfig(
      {
        VALET_PUBLIC_URL: 'http://localhost:8080',
        VALET_AUTHORITY: idp.authority,
        VALET_DATA_DIR: dir,
        ...variables,
      },
      { hostname: 'valet-test', pid: 1 },
    );
    const credential = await buildMsalCredential(config.credential);
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: config.clientId,
        authority: config.authority.url,
        knownAuthorities: config.authority.knownAuthorities,
        ...credential.auth,
      },
    });
    return { cca, credential, warnings: config.warnings };
  }

  async function writeAssertion(name: string, token: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    return file;
  }

  async function graphClaims(token: string) {
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(idp.jwksUri)), {
      issuer: idp.issuer,
      audience: GRAPH_RESOURCE,
    });
    return payload;
  }

  /**
   * Redeems a made-up code, as the callback would redeem the user's: the IdP checks the
   * client's credential before the code. Returns what it failed with.
   */
  async function redemptionFailure(
    cca: ConfidentialClientApplication,
  ): Promise<Error & { errorCode?: string; errorMessage?: string }> {
    const outcome = await cca
      .acquireTokenByCode({
        code: 'any-code',
        scopes: ['User.Read'],
        redirectUri: callback.redirectUri,
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    if (!(outcome instanceof Error)) throw new Error('The code redemption did not fail.');
    return outcome;
  }

  it('signs a user in with VALET_CLIENT_SECRET, after warning that secrets are discouraged', async () => {
    const { cca, warnings } = await appConfiguredWith({
      VALET_CLIENT_ID: SECRET_APP,
      VALET_CLIENT_SECRET: SECRET,
    });
    expect(warnings.join('\n')).toContain('Microsoft discourages client secrets');
    const before = idp.tokenRequests.length;
    const { result, nonce } = await signInThroughWebApp(browser, callback, cca, adele);
    expect(result.idTokenClaims).toMatchObject({ nonce, oid: adele.id, aud: SECRET_APP });
    expect(await graphClaims(result.accessToken)).toMatchObject({
      oid: adele.id,
      azp: SECRET_APP,
    });
    expect(idp.tokenRequests.slice(before)).toEqual([
      expect.objectContaining({ grantType: 'authorization_code', clientId: SECRET_APP }),
    ]);
  });

  it('signs a user in with VALET_CLIENT_CERT_FILE: the certificate, found by its SHA-256 thumbprint, signs the client assertion', async () => {
    const { cca, credential } = await appConfiguredWith({
      VALET_CLIENT_ID: CERT_APP,
      VALET_CLIENT_CERT_FILE: certFile,
    });
    expect(credential.description).toContain('certificate CN=MCP Valet remote');
    const { result, nonce } = await signInThroughWebApp(browser, callback, cca, alex);
    expect(result.idTokenClaims).toMatchObject({ nonce, oid: alex.id, aud: CERT_APP });
    expect(await graphClaims(result.accessToken)).toMatchObject({
      oid: alex.id,
      azp: CERT_APP,
    });
  });

  it('signs a user in with VALET_CLIENT_ASSERTION_FILE: the workload token in the file is the federated credential', async () => {
    const token = await cluster.sign({ subject: SERVICE_ACCOUNT });
    const file = await writeAssertion('workload-token', token);
    const { cca } = await appConfiguredWith({
      VALET_CLIENT_ID: WORKLOAD_APP,
      VALET_CLIENT_ASSERTION_FILE: file,
    });
    const before = idp.tokenRequests.length;
    const { result, nonce } = await signInThroughWebApp(browser, callback, cca, adele);
    expect(result.idTokenClaims).toMatchObject({ nonce, oid: adele.id, aud: WORKLOAD_APP });
    expect(await graphClaims(result.accessToken)).toMatchObject({
      oid: adele.id,
      azp: WORKLOAD_APP,
    });
    expect(idp.tokenRequests.slice(before)).toEqual([
      expect.objectContaining({
        grantType: 'authorization_code',
        clientId: WORKLOAD_APP,
        federatedAssertion: {
          issuer: cluster.issuer,
          subject: SERVICE_ACCOUNT,
          tokenId: decodeJwt(token).jti,
        },
      }),
    ]);
  });

  it('reads the federated token file again for each token request, so a token the platform replaced is the one sent', async () => {
    const first = await cluster.sign({ subject: SERVICE_ACCOUNT });
    const file = await writeAssertion('rotated-token', first);
    const { cca } = await appConfiguredWith({
      AZURE_FEDERATED_TOKEN_FILE: file,
      VALET_CLIENT_ID: WORKLOAD_APP,
    });
    const before = idp.tokenRequests.length;
    const { result } = await signInThroughWebApp(browser, callback, cca, adele);

    const second = await cluster.sign({ subject: SERVICE_ACCOUNT });
    await writeAssertion('rotated-token', second);
    const refreshed = await cca.acquireTokenSilent({
      account: result.account ?? expect.fail('the sign-in gave no account'),
      scopes: ['User.Read'],
      forceRefresh: true,
    });
    expect(refreshed.accessToken).not.toBe(result.accessToken);

    const sent = idp.tokenRequests.slice(before);
    expect(sent.map((r) => [r.grantType, r.federatedAssertion?.tokenId])).toEqual([
      ['authorization_code', decodeJwt(first).jti],
      ['refresh_token', decodeJwt(second).jti],
    ]);
  });

  it('signs a user in with VALET_CLIENT_ASSERTION=managed-identity: the App Service identity endpoint gives the token for api://AzureADTokenExchange', async () => {
    const { cca, credential } = await appConfiguredWith({
      VALET_CLIENT_ID: MANAGED_APP,
      VALET_CLIENT_ASSERTION: 'managed-identity',
    });
    expect(credential.description).toBe('system-assigned managed identity');
    const asked = identityEndpoint.requests.length;
    const before = idp.tokenRequests.length;
    const { result, nonce } = await signInThroughWebApp(browser, callback, cca, alex);
    expect(result.idTokenClaims).toMatchObject({ nonce, oid: alex.id, aud: MANAGED_APP });
    expect(await graphClaims(result.accessToken)).toMatchObject({
      oid: alex.id,
      azp: MANAGED_APP,
    });
    expect(identityEndpoint.requests.slice(asked)).toEqual([
      expect.objectContaining({
        status: 200,
        resource: TOKEN_EXCHANGE_AUDIENCE,
        objectId: SYSTEM_IDENTITY.objectId,
      }),
    ]);
    expect(idp.tokenRequests.slice(before)).toEqual([
      expect.objectContaining({
        grantType: 'authorization_code',
        clientId: MANAGED_APP,
        federatedAssertion: expect.objectContaining({
          issuer: platform.issuer,
          subject: SYSTEM_IDENTITY.objectId,
        }),
      }),
    ]);
  });

  it('refuses a federated token file holding a token for another subject with AADSTS70021 naming the issuer, subject and audience', async () => {
    const token = await cluster.sign({ subject: 'system:serviceaccount:other:app' });
    const { cca } = await appConfiguredWith({
      VALET_CLIENT_ID: WORKLOAD_APP,
      VALET_CLIENT_ASSERTION_FILE: await writeAssertion('other-subject', token),
    });
    const failure = await redemptionFailure(cca);
    expect(failure).toMatchObject({
      errorCode: 'invalid_client',
      errorMessage: expect.stringContaining(
        `AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '${cluster.issuer}'. Assertion Subject: 'system:serviceaccount:other:app'. Assertion Audience: '${TOKEN_EXCHANGE_AUDIENCE}'.`,
      ),
    });
    expect(String(failure)).not.toContain(token);
  });

  it('refuses an expired token in the federated token file with AADSTS700024 giving its validity', async () => {
    const issuedAt = new Date(Date.now() - 2 * 60 * 60 * 1000);
    const expiresAt = new Date(Date.now() - 60 * 60 * 1000);
    const token = await cluster.sign({ subject: SERVICE_ACCOUNT, issuedAt, expiresAt });
    const { cca } = await appConfiguredWith({
      VALET_CLIENT_ID: WORKLOAD_APP,
      VALET_CLIENT_ASSERTION_FILE: await writeAssertion('expired', token),
    });
    const failure = await redemptionFailure(cca);
    const iso = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString();
    expect(failure).toMatchObject({
      errorCode: 'invalid_client',
      errorMessage: expect.stringContaining(
        `AADSTS700024: Client assertion is not within its valid time range. Current time: `,
      ),
    });
    expect(failure.errorMessage).toContain(
      `assertion valid from ${iso(issuedAt)}, expiry time of assertion ${iso(expiresAt)}`,
    );
  });

  it('refuses a federated token signed by a key its issuer does not publish with AADSTS700027', async () => {
    const impostor = await createFederatedIssuer(cluster.issuer);
    const { cca } = await appConfiguredWith({
      VALET_CLIENT_ID: WORKLOAD_APP,
      VALET_CLIENT_ASSERTION_FILE: await writeAssertion(
        'foreign-key',
        await impostor.sign({ subject: SERVICE_ACCOUNT }),
      ),
    });
    expect(await redemptionFailure(cca)).toMatchObject({
      errorCode: 'invalid_client',
      errorMessage: expect.stringContaining(
        'AADSTS700027: Client assertion failed signature validation.',
      ),
    });
  });

  it('stops a managed identity sign-in whose identity header the endpoint refuses, naming the identity, before anything reaches the IdP', async () => {
    const { cca } = await appConfiguredWith({
      VALET_CLIENT_ID: MANAGED_APP,
      VALET_CLIENT_ASSERTION: 'managed-identity',
      VALET_MI_CLIENT_ID: USER_IDENTITY.clientId,
    });
    // MSAL keeps the IDENTITY_HEADER it read first; the platform rotates the value, so the one
    // the process holds goes stale the way a wrong header does.
    const held = identityEndpoint.header;
    identityEndpoint.setHeader(randomBytes(16).toString('hex'));
    const asked = identityEndpoint.requests.length;
    const before = idp.tokenRequests.length;
    try {
      const failure = await redemptionFailure(cca);
      expect(failure.message).toContain(
        `The user-assigned managed identity ${USER_IDENTITY.clientId} gave no token for ${TOKEN_EXCHANGE_AUDIENCE}`,
      );
      expect(failure.message).toContain('check that the identity is assigned to this host');
      // The endpoint's reason reaches the admin's line, not only the error's cause.
      expect(failure.message).toContain(
        '(the endpoint said: X-IDENTITY-HEADER is missing or invalid.)',
      );
    } finally {
      identityEndpoint.setHeader(held);
    }
    expect(identityEndpoint.requests.slice(asked).map((r) => r.status)).toEqual([401]);
    expect(idp.tokenRequests.length).toBe(before);
  });
});
