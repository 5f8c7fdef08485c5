import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { Provider, errors, interactionPolicy } from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { accountFor, toGraphAccessToken } from './claims.ts';
import {
  DEMO_APP_NAME,
  GRAPH_RESOURCE,
  GRAPH_SCOPES,
  OIDC_SCOPES,
  isKnownScope,
} from './directory.ts';
import { deviceFlowPages, errorPageFor, signOutPages } from './provider-pages.ts';
import type { MemoryStore } from './store.ts';
import type { UserDirectory } from './users.ts';

const DAY = 24 * 60 * 60;

/** What `createProvider` needs: who the IdP is, who may sign in, and where it keeps state. */
export interface ProviderSettings {
  issuer: string;
  tenantId: string;
  clientIds: readonly string[];
  users: UserDirectory;
  store: MemoryStore;
  accessTokenTtl: () => number;
}

/** The first path segment of the request (tenant ID, `organizations` or `common`). */
export function tenantSegmentOf(ctx: KoaContextWithOIDC): string {
  return new URL(ctx.oidc.urlFor('authorization')).pathname.split('/')[1] ?? '';
}

function signingKey(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
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

function requestedScopes(ctx: KoaContextWithOIDC): string[] {
  const scope: unknown = ctx.oidc.params?.scope;
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

/** Builds the oidc-provider instance, configured to behave like Entra's v2.0 endpoints. */
export function createProvider(settings: ProviderSettings): Provider {
  const { tenantId, users, store } = settings;
  const clientIds = new Set(settings.clientIds);

  const configuration: Configuration = {
    adapter: (model: string) => store.adapterFor(model),
    clients: [...clientIds].map((clientId) => ({
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
    })),
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
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
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
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
          toGraphAccessToken(jwt, accountId ? users.byId(accountId) : undefined, tenantId);
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
        // MSAL sends Graph scopes without the resource prefix and no `resource` parameter.
        // This is the one hook that sees the scopes of every authorization and device code
        // request, so unknown scopes are refused here (oidc-provider would drop them silently).
        defaultResource: (ctx) => {
          const scopes = requestedScopes(ctx);
          const unknown = scopes.filter((scope) => !isKnownScope(scope));
          if (unknown.length > 0) {
            throw new errors.InvalidScope(
              `AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope '${unknown.join(' ')}' does not exist.`,
              unknown.join(' '),
            );
          }
          return scopes.some((scope) => GRAPH_SCOPES.has(scope)) ? GRAPH_RESOURCE : undefined;
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== GRAPH_RESOURCE)
            throw new errors.InvalidTarget(`Unknown resource ${resource}.`);
          return {
            scope: [...GRAPH_SCOPES.keys()].join(' '),
            audience: GRAPH_RESOURCE,
            accessTokenTTL: settings.accessTokenTtl(),
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    renderError: errorPageFor,
    clientBasedCORS: () => false,
  };

  return new Provider(settings.issuer, configuration);
}
