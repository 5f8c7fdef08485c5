import { randomBytes } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Provider } from 'oidc-provider';
import { AppDirectory } from './apps.ts';
import { issueServerCertificate } from './ca.ts';
import { certificateKey } from './client-auth.ts';
import type { CertificateKey } from './client-auth.ts';
import { setConsent } from './consent.ts';
import { approveDeviceCode } from './device-approval.ts';
import { DEMO_CLIENT_ID, DEMO_TENANT_ID, DEMO_USERS } from './directory.ts';
import { installEntraResponses } from './entra-responses.ts';
import { FederatedCredentials } from './federated-credentials.ts';
import { createFrontDoor } from './front-door.ts';
import { registerOnBehalfOf } from './obo.ts';
import { createProvider } from './provider.ts';
import { SigningKeys } from './signing-keys.ts';
import { MemoryStore } from './store.ts';
import type { IdpOptions, RunningIdp, TokenRequestRecord } from './types.ts';
import { UserDirectory, isGuid } from './users.ts';

/** The one host name in every URL the IdP hands out; MSAL rejects an issuer on another host. */
export const IDP_HOST = 'localhost';

function checkTtl(seconds: number): number {
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new Error(
      `Access-token lifetime must be a positive whole number of seconds, got ${seconds}.`,
    );
  }
  return seconds;
}

function checkOptions(options: IdpOptions): { tenantId: string; clientIds: readonly string[] } {
  const tenantId = options.tenantId ?? DEMO_TENANT_ID;
  if (!isGuid(tenantId)) throw new Error(`tenantId must be a GUID, got "${tenantId}".`);
  const clientIds = options.clientIds ?? [DEMO_CLIENT_ID];
  if (clientIds.length === 0) throw new Error('clientIds must name at least one client.');
  for (const id of clientIds) {
    if (!isGuid(id)) throw new Error(`Client IDs must be GUIDs, got "${id}".`);
  }
  return { tenantId, clientIds };
}

/**
 * Starts an Entra-like OpenID Connect provider over HTTPS on 127.0.0.1. Its server
 * certificate is signed by `options.ca`, so clients must trust that CA (NODE_EXTRA_CA_CERTS).
 */
export async function startIdp(options: IdpOptions): Promise<RunningIdp> {
  const { tenantId, clientIds } = checkOptions(options);
  const users = new UserDirectory(options.users ?? DEMO_USERS);
  const apps = new AppDirectory(clientIds, options.confidentialClients ?? [], options.apis ?? []);
  const certificateKeys = new Map<string, readonly CertificateKey[]>(
    apps.confidentialClients.map((client) => [
      client.clientId,
      (client.certificates ?? []).map(certificateKey),
    ]),
  );
  const federation = new FederatedCredentials(
    apps.confidentialClients,
    options.federatedIssuers ?? [],
  );
  let accessTokenTtl = checkTtl(options.accessTokenTtlSeconds ?? 3600);
  const deviceInterval = options.deviceCodeIntervalSeconds ?? 5;
  const certificate = await issueServerCertificate(options.ca, {
    dns: [IDP_HOST],
    ips: ['127.0.0.1', '::1'],
  });

  const server = createServer({ cert: certificate.certPem, key: certificate.keyPem });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = `https://${IDP_HOST}:${port}`;
  const authority = `${origin}/${tenantId}`;
  const issuer = `${authority}/v2.0`;

  const store = new MemoryStore((grant) => apps.widenGrant(grant));
  const tokenRequests: TokenRequestRecord[] = [];
  const keys = new SigningKeys();
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const allClientIds = new Set([...clientIds, ...apps.confidentialClients.map((c) => c.clientId)]);

  // oidc-provider reads its signing keys once, when it is built; a rotation builds a new
  // provider over the same store and cookie keys, so sessions, grants and tokens carry on.
  function buildProvider(): Provider {
    const built = createProvider({
      issuer,
      tenantId,
      clientIds,
      apps,
      certificateKeys,
      internalSecret: (clientId) => federation.internalSecret(clientId),
      users,
      store,
      keys,
      cookieKeys,
      accessTokenTtl: () => accessTokenTtl,
    });
    installEntraResponses(built, {
      tenantId,
      apps,
      certificateKeys,
      device: { intervalSeconds: deviceInterval },
    });
    registerOnBehalfOf(built, {
      tenantId,
      issuer,
      apps,
      users,
      store,
      keys,
      accessTokenTtl: () => accessTokenTtl,
    });
    built.on('server_error', (_ctx, error) => console.error('IdP server error:', error));
    return built;
  }
  let provider = buildProvider();
  const consentContext = {
    get provider() {
      return provider;
    },
    store,
    apps,
    users,
    clientIds: allClientIds,
  };
  server.on(
    'request',
    createFrontDoor({
      tenantId,
      canonicalHost: `${IDP_HOST}:${port}`,
      provider: () => provider,
      interactions: consentContext,
      tokenRequests,
      federation,
    }),
  );

  return {
    origin,
    authority,
    host: `${IDP_HOST}:${port}`,
    tenantId,
    port,
    clientIds,
    users: users.users,
    issuer,
    jwksUri: `${authority}/discovery/v2.0/keys`,
    tokenRequests,
    setAccessTokenTtl(seconds) {
      accessTokenTtl = checkTtl(seconds);
    },
    approveDeviceCode: (userCode, username) =>
      approveDeviceCode(provider, users, apps, userCode, username),
    setConsent: (username, clientId, scopes) =>
      setConsent(consentContext, username, clientId, scopes),
    setApiTokenVersion(appId, version) {
      const api = apps.apiByAppId(appId);
      if (!api) throw new Error(`No API with the app ID ${appId}.`);
      if (version !== 1 && version !== 2)
        throw new Error(`Token version must be 1 or 2, got ${String(version)}.`);
      api.accessTokenVersion = version;
    },
    async rotateSigningKey() {
      const kid = keys.rotate();
      provider = buildProvider();
      return kid;
    },
    async revokeUser(username) {
      const user = users.byUsername(username);
      if (!user) throw new Error(`No user named ${username}.`);
      store.revokeAccount(user.id);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
