import express, { type Router } from 'express';
import {
  createOAuthMetadata,
  mcpAuthRouter,
  type AuthRouterOptions,
} from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { RemoteConfig } from '../remote-config.ts';
import type { SharedStore } from '../store/shared-store.ts';
import { silentLogger, type Logger } from '../../util/logger.ts';
import { CimdClients, type ResolveHost } from './cimd-clients.ts';
import { createClientsStore } from './clients-store.ts';
import { consentRouter } from './consent-router.ts';
import { PendingRequests } from './pending-requests.ts';
import { RemoteKeys } from './remote-keys.ts';
import { ALL_SCOPES, BASE_SCOPE } from './scopes.ts';
import { ValetProvider } from './valet-provider.ts';
import { ValetTokens } from './valet-tokens.ts';
import type { CurrentUser } from './web-user.ts';

/** The settings valet mode's authorization server reads. */
export type ValetAuthConfig = Pick<
  RemoteConfig,
  | 'publicUrl'
  | 'mcpUrl'
  | 'dcr'
  | 'cimd'
  | 'cimdHosts'
  | 'tokenTtlSeconds'
  | 'refreshTtlSeconds'
  | 'consentTtlDays'
>;

/** Where an authorization endpoint keeps its per-address request counts (express-rate-limit's store). */
export type AuthRateLimitStore = NonNullable<
  Exclude<NonNullable<AuthRouterOptions['tokenOptions']>['rateLimit'], false | undefined>['store']
>;

/** The SDK's authorization endpoints, each with its own per-address limit. */
export type AuthEndpoint = 'authorize' | 'token' | 'register' | 'revoke';

/** What valet mode's authorization server is built from. */
export interface ValetAuthOptions {
  config: ValetAuthConfig;
  store: SharedStore;
  /** The web sign-in's session of a request; the consent page needs one. */
  currentUser: CurrentUser;
  /**
   * The web sign-in's link that comes back to `returnTo` (a path under the public URL), for the
   * consent page of a browser that is not signed in; `<public path>/auth/login` by default.
   */
  loginPath?: (returnTo: string) => string;
  logger?: Logger;
  /**
   * The store of each endpoint's per-address limit, shared by every instance (Redis); each
   * process counts on its own when absent.
   */
  rateLimitStore?: (endpoint: AuthEndpoint) => AuthRateLimitStore;
  /** How CIMD hosts are resolved (dns.lookup unless given). */
  resolveHost?: ResolveHost;
  now?: () => number;
}

/** The router and the parts the rest of the server uses: the token check and the keys. */
export interface ValetAuthServer {
  /** Mount at the app's root. */
  router: Router;
  /** For requireBearerAuth on /mcp. */
  provider: ValetProvider;
  keys: RemoteKeys;
  /** The issuer: the public URL, as metadata and `iss` name it. */
  issuer: string;
  /** `<public>/.well-known/oauth-protected-resource/mcp`. */
  resourceMetadataUrl: string;
}

/**
 * Valet mode's OAuth 2.1 authorization server: RFC 8414 metadata (with
 * `client_id_metadata_document_supported`), the protected resource metadata of `/mcp`, the
 * SDK's /authorize, /token, /register and /revoke over our provider, and the consent page.
 */
export function createValetAuthServer(options: ValetAuthOptions): ValetAuthServer {
  const { config, store } = options;
  const logger = options.logger ?? silentLogger;
  const keys = new RemoteKeys(store, options.now);
  const tokens = new ValetTokens({
    store,
    keys,
    logger,
    tokenTtlSeconds: config.tokenTtlSeconds,
    refreshTtlSeconds: config.refreshTtlSeconds,
    now: options.now,
  });
  const cimd = config.cimd
    ? new CimdClients({ store, hosts: config.cimdHosts, logger, resolve: options.resolveHost })
    : undefined;
  const clientsStore = createClientsStore({ store, dcr: config.dcr, cimd, now: options.now });
  const pending = new PendingRequests(store);
  const provider = new ValetProvider({
    clientsStore,
    pending,
    tokens,
    consentUrl: `${config.publicUrl}/consent`,
    resource: config.mcpUrl,
  });
  const issuer = config.publicUrl;
  const issuerUrl = new URL(issuer);
  const resourceMetadataUrl = `${config.publicUrl}/.well-known/oauth-protected-resource/mcp`;

  const sdkMetadata = createOAuthMetadata({ provider, issuerUrl, scopesSupported: ALL_SCOPES });
  const metadata = {
    ...sdkMetadata,
    // The SDK spells the issuer with a trailing slash; ours is the public URL as configured.
    issuer,
    // The SDK puts its endpoints at the issuer's host root; ours are under the public URL's path.
    ...underIssuer(issuer, sdkMetadata),
    // Public clients: no secrets are issued, so none is advertised for the token endpoint.
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    client_id_metadata_document_supported: config.cimd,
    authorization_response_iss_parameter_supported: true,
  };
  const resourceMetadata = {
    resource: config.mcpUrl,
    authorization_servers: [issuer],
    // The least a client needs; write scopes are asked for by step-up when a tool needs them.
    scopes_supported: [BASE_SCOPE],
    bearer_methods_supported: ['header'],
    resource_name: 'MCP Valet',
  };

  // The SDK's own limits per address, counted where the options say (all instances with Redis).
  const sharedLimit = (endpoint: AuthEndpoint) =>
    options.rateLimitStore ? { rateLimit: { store: options.rateLimitStore(endpoint) } } : {};

  const router = express.Router();
  // Ours come first: the SDK's own metadata lacks the CIMD flag and names the wider scopes.
  router.get('/.well-known/oauth-authorization-server', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(metadata);
  });
  router.get('/.well-known/oauth-protected-resource/mcp', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(resourceMetadata);
  });
  router.use(
    mcpAuthRouter({
      provider,
      issuerUrl,
      scopesSupported: ALL_SCOPES,
      resourceServerUrl: new URL(config.mcpUrl),
      resourceName: 'MCP Valet',
      authorizationOptions: sharedLimit('authorize'),
      tokenOptions: sharedLimit('token'),
      clientRegistrationOptions: sharedLimit('register'),
      revocationOptions: sharedLimit('revoke'),
    }),
  );
  router.use(
    consentRouter({
      store,
      pending,
      clientsStore,
      keys,
      tokens,
      currentUser: options.currentUser,
      ...(options.loginPath ? { loginPath: options.loginPath } : {}),
      issuer,
      consentTtlDays: config.consentTtlDays,
      logger,
      now: options.now,
    }),
  );
  return { router, provider, keys, issuer, resourceMetadataUrl };
}

/** Valet mode's authorization server as one express Router (see createValetAuthServer). */
export function valetAuthRouter(options: ValetAuthOptions): Router {
  return createValetAuthServer(options).router;
}

/** The endpoint URLs of the SDK's metadata, moved under the issuer's path (`https://host/team`). */
function underIssuer(issuer: string, metadata: Record<string, unknown>): Record<string, string> {
  const moved: Record<string, string> = {};
  for (const field of [
    'authorization_endpoint',
    'token_endpoint',
    'registration_endpoint',
    'revocation_endpoint',
  ]) {
    const value = metadata[field];
    if (typeof value === 'string') moved[field] = `${issuer}${new URL(value).pathname}`;
  }
  return moved;
}
