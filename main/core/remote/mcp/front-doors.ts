import { Router } from 'express';
import { EntraTokenVerifier, entraVerifierSettings } from '../entra/entra-verifier.ts';
import type { OpenIdConfigurationSource } from '../entra/authority-jwks.ts';
import type { OnBehalfOfGraphTokens } from '../entra/on-behalf-of.ts';
import { v2Issuer } from '../entra/token-claims.ts';
import type { ValetAuthServer } from '../oauth/valet-auth-router.ts';
import type { RemoteConfig } from '../remote-config.ts';
import type { WebMsalConfig } from '../web/web-msal.ts';
import type { Logger } from '../../util/logger.ts';
import type { McpFrontDoor } from './mcp-endpoint.ts';
import { PartitionMemo } from './partition-memo.ts';
import { RefreshLocks } from './refresh-lock.ts';
import { entraIdentity, valetIdentity } from './remote-identity.ts';
import { userGraphAccess } from './user-graph-access.ts';

/**
 * Valet mode's door at `/mcp`: our own opaque tokens, each acting as one valet key, checked
 * against the store on every request (a revoked key is refused at once); Graph as the key's
 * user, from their token cache, refreshed by one instance at a time.
 */
export function valetDoor(
  config: Pick<RemoteConfig, 'publicUrl' | 'mcpUrl'>,
  valet: ValetAuthServer,
  msal: WebMsalConfig,
): McpFrontDoor {
  const locks = new RefreshLocks({ store: msal.store });
  const memo = new PartitionMemo();
  return {
    path: '/mcp',
    resource: config.mcpUrl,
    resourceMetadataUrl: valet.resourceMetadataUrl,
    verifier: valet.provider,
    stepUp: true,
    // The token check has just read the key (and refused a revoked one): its name came along.
    identify: async (auth) => valetIdentity(auth),
    graphAccess: (_auth, identity) =>
      userGraphAccess(msal, config.publicUrl, identity.principal.homeAccountId ?? '', locks, memo),
    // A token of a key this instance has verified before names its user: admission and the
    // user's token cache can be read while the token is checked.
    knownKey: (token) => {
      const known = valet.provider.knownKeyOf(token);
      if (!known) return undefined;
      return {
        subject: { keyId: known.keyId, oid: known.oid },
        checks: known.checks,
        graphAccess: () =>
          userGraphAccess(msal, config.publicUrl, known.homeAccountId, locks, memo),
      };
    },
  };
}

/** Where entra mode is served: `/mcp`, or `/entra/mcp` next to valet mode. */
export function entraPath(auth: RemoteConfig['auth']): string {
  return auth === 'both' ? '/entra/mcp' : '/mcp';
}

/**
 * Entra mode's door: Entra access tokens for our API, checked as a pure resource server;
 * Graph on-behalf-of the caller. The caller's token goes nowhere but the exchange.
 */
export function entraDoor(
  config: RemoteConfig,
  metadata: OpenIdConfigurationSource,
  onBehalfOf: OnBehalfOfGraphTokens,
  logger: Logger,
): McpFrontDoor {
  const path = entraPath(config.auth);
  const resource = `${config.publicUrl}${path}`;
  return {
    path,
    resource,
    // Under the public URL, as valet mode's: a proxy forwarding only its path reaches it.
    resourceMetadataUrl: `${config.publicUrl}/.well-known/oauth-protected-resource${path}`,
    verifier: new EntraTokenVerifier(entraVerifierSettings(config, resource), {
      metadata,
      logger,
    }),
    stepUp: false,
    identify: async (auth, policy) => entraIdentity(auth, policy),
    graphAccess: (auth, identity) => ({
      tokens: onBehalfOf.forRequest(auth),
      roles: async () => [...identity.principal.roles],
      // On-behalf-of tokens are asked for per call; none is held for the user to list.
      granted: async () => [],
    }),
  };
}

/**
 * Entra mode's protected resource metadata (RFC 9728) at its path's well-known URL, and at the
 * root alias when it is the server's only mode: Entra is the authorization server, and clients
 * ask it for the API scope, with this path's URL as the resource (which must be an identifier
 * URI of the API app, or Entra answers AADSTS9010010).
 */
export function entraResourceMetadata(config: RemoteConfig): Router {
  const path = entraPath(config.auth);
  const document = {
    resource: `${config.publicUrl}${path}`,
    authorization_servers: [v2Issuer(config.authority, config.tenantId)],
    scopes_supported: [config.apiScope],
    bearer_methods_supported: ['header'],
    resource_name: 'MCP Valet',
  };
  const router = Router();
  const paths = [`/.well-known/oauth-protected-resource${path}`];
  if (config.auth === 'entra') paths.push('/.well-known/oauth-protected-resource');
  for (const at of paths) router.get(at, (_req, res) => res.json(document));
  return router;
}

/**
 * Valet mode's protected resource metadata at the root alias: the same document as at `/mcp`'s
 * well-known URL, answered by the authorization server's own route.
 */
export function valetResourceMetadataAlias(valet: ValetAuthServer): Router {
  const router = Router();
  router.get('/.well-known/oauth-protected-resource', (req, res, next) => {
    req.url = '/.well-known/oauth-protected-resource/mcp';
    valet.router(req, res, next);
  });
  return router;
}
