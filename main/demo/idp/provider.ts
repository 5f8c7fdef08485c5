import { Provider, interactionPolicy } from 'oidc-provider';
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { AppDirectory } from './apps.ts';
import { accountFor, toApiAccessToken, toGraphAccessToken } from './claims.ts';
import type { ApiTokenShape } from './claims.ts';
import { assertionCertificateCheck, confidentialClientMetadata } from './client-auth.ts';
import type { CertificateKey } from './client-auth.ts';
import { DEMO_APP_NAME, OIDC_SCOPES } from './directory.ts';
import { deviceFlowPages, errorPageFor, signOutPages } from './provider-pages.ts';
import { entraResourceIndicators } from './resources.ts';
import type { SigningKeys } from './signing-keys.ts';
import type { MemoryStore } from './store.ts';
import type { UserDirectory } from './users.ts';

const DAY = 24 * 60 * 60;

/** What `createProvider` needs: who the IdP is, who may sign in, and where it keeps state. */
export interface ProviderSettings {
  issuer: string;
  tenantId: string;
  clientIds: readonly string[];
  apps: AppDirectory;
  /** Public keys of each confidential client's certificates, by client ID. */
  certificateKeys: ReadonlyMap<string, readonly CertificateKey[]>;
  /** The secret oidc-provider knows a federated client by. */
  internalSecret: (clientId: string) => string | undefined;
  users: UserDirectory;
  store: MemoryStore;
  keys: SigningKeys;
  /** Keys that sign the IdP's cookies; the same across key rotations, so sessions survive. */
  cookieKeys: string[];
  accessTokenTtl: () => number;
}

/** The first path segment of the request (tenant ID, `organizations` or `common`). */
export function tenantSegmentOf(ctx: KoaContextWithOIDC): string {
  return new URL(ctx.oidc.urlFor('authorization')).pathname.split('/')[1] ?? '';
}

function interactionPolicyWithSelectAccount(): interactionPolicy.Prompt[] {
  const policy = interactionPolicy.base();
  // Apps ask Entra for its account picker with prompt=select_account (MSAL passes it on);
  // oidc-provider rejects prompts it has no policy for. Here it shows the sign-in page.
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);
  // oidc-provider asks native clients for consent on every authorization, since any local
  // app can listen on a loopback redirect. Entra asks once per user and app; so do we.
  policy.get('consent')?.checks.remove('native_client_prompt');
  return policy;
}

function apiTokenShape(apps: AppDirectory, clientId: unknown, version: 1 | 2): ApiTokenShape {
  const client = apps.confidential(typeof clientId === 'string' ? clientId : undefined);
  let clientAuth: ApiTokenShape['clientAuth'] = '0';
  if (client) clientAuth = client.secret !== undefined ? '1' : '2';
  return { version, clientAuth };
}

/** Builds the oidc-provider instance, configured to behave like Entra's v2.0 endpoints. */
export function createProvider(settings: ProviderSettings): Provider {
  const { tenantId, users, store, apps } = settings;
  const clientIds = new Set(settings.clientIds);
  const keysOf = (clientId: string) => settings.certificateKeys.get(clientId) ?? [];

  const configuration: Configuration = {
    adapter: (model: string) => store.adapterFor(model),
    clients: [...clientIds]
      .map((clientId): ClientMetadata => ({
        client_id: clientId,
        client_name: DEMO_APP_NAME,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        // Native clients may use any port on a registered loopback redirect (RFC 8252).
        redirect_uris: ['http://localhost', 'http://127.0.0.1'],
        grant_types: [
          'authorization_code',
          'refresh_token',
          'urn:ietf:params:oauth:grant-type:device_code',
        ],
        response_types: ['code'],
      }))
      .concat(
        apps.confidentialClients.map((client) =>
          confidentialClientMetadata(
            client,
            keysOf(client.clientId),
            settings.internalSecret(client.clientId),
          ),
        ),
      ),
    jwks: settings.keys.privateJwks,
    cookies: { keys: settings.cookieKeys },
    assertJwtClientAuthClaimsAndHeader: assertionCertificateCheck(keysOf),
    scopes: [...OIDC_SCOPES.keys()],
    claims: {
      openid: ['sub', 'oid', 'tid', 'ver', 'roles'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    findAccount: (_ctx, sub) => {
      const user = users.byId(sub);
      return user ? accountFor(user, tenantId) : undefined;
    },
    // Entra keeps consent per user and app, not per browser session.
    loadExistingGrant: async (ctx) => {
      const accountId = ctx.oidc.session?.accountId;
      const clientId = ctx.oidc.client?.clientId;
      const grantId =
        ctx.oidc.result?.consent?.grantId ??
        (clientId ? ctx.oidc.session?.grantIdFor(clientId) : undefined) ??
        (accountId && clientId ? store.grantIdFor(accountId, clientId) : undefined);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      // An app an admin consented to needs no one's consent: its grant exists from the start.
      if (!accountId || !clientId || apps.adminConsented(clientId).length === 0) return undefined;
      const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
      await grant.save();
      return ctx.oidc.provider.Grant.find(grant.jti);
    },
    // Entra issues refresh tokens to public clients whether or not offline_access survived
    // oidc-provider's prompt rules, and they outlive the browser session.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: () => false,
    // Entra rotates refresh tokens but keeps the old ones valid; never rotating is the closer
    // match than oidc-provider's one-time use, which revokes the grant on a reuse.
    rotateRefreshToken: false,
    ttl: {
      AccessToken: () => settings.accessTokenTtl(),
      AuthorizationCode: 60,
      DeviceCode: 15 * 60,
      IdToken: 60 * 60,
      Interaction: 60 * 60,
      RefreshToken: 90 * DAY,
      Session: DAY,
      Grant: 90 * DAY,
    },
    interactions: {
      policy: interactionPolicyWithSelectAccount(),
      url: (ctx, interaction) => `/${tenantSegmentOf(ctx)}/login/${interaction.uid}`,
    },
    routes: {
      authorization: '/oauth2/v2.0/authorize',
      token: '/oauth2/v2.0/token',
      device_authorization: '/oauth2/v2.0/devicecode',
      code_verification: '/devicelogin',
      end_session: '/oauth2/v2.0/logout',
      jwks: '/discovery/v2.0/keys',
    },
    formats: {
      customizers: {
        jwt: (_ctx, token, jwt) => {
          const accountId = 'accountId' in token ? token.accountId : undefined;
          const user = accountId ? users.byId(accountId) : undefined;
          const resource = 'resourceServer' in token ? token.resourceServer : undefined;
          const api = resource ? apps.apiByUri(resource.identifier()) : undefined;
          if (!api) {
            toGraphAccessToken(jwt, user, tenantId);
            return;
          }
          const shape = apiTokenShape(apps, jwt.payload.client_id, api.accessTokenVersion);
          toApiAccessToken(jwt, user, tenantId, shape);
        },
      },
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      deviceFlow: { enabled: true, ...deviceFlowPages },
      rpInitiatedLogout: { enabled: true, ...signOutPages },
      resourceIndicators: {
        enabled: true,
        ...entraResourceIndicators(apps, settings.accessTokenTtl),
        useGrantedResource: () => true,
      },
    },
    renderError: errorPageFor,
    clientBasedCORS: () => false,
  };

  return new Provider(settings.issuer, configuration);
}
