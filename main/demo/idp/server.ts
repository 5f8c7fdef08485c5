import { approveDeviceCode } from './device-approval.ts';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { issueServerCertificate } from './ca.ts';
import { DEMO_CLIENT_ID, DEMO_TENANT_ID, DEMO_USERS } from './directory.ts';
import { installEntraResponses } from './entra-responses.ts';
import { createFrontDoor } from './front-door.ts';
import { createProvider } from './provider.ts';
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

  const store = new MemoryStore();
  const tokenRequests: TokenRequestRecord[] = [];
  const provider = createProvider({
    issuer,
    tenantId,
    clientIds,
    users,
    store,
    accessTokenTtl: () => accessTokenTtl,
  });
  installEntraResponses(provider, tenantId, { intervalSeconds: deviceInterval });
  provider.on('server_error', (_ctx, error) => console.error('IdP server error:', error));
  server.on(
    'request',
    createFrontDoor({
      tenantId,
      canonicalHost: `${IDP_HOST}:${port}`,
      provider,
      interactions: { provider, users },
      tokenRequests,
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
      approveDeviceCode(provider, users, userCode, username),
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
