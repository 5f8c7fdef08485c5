import { errors } from 'oidc-provider';
import type { KoaContextWithOIDC, ResourceServer } from 'oidc-provider';
import type { AppDirectory, ScopeSplit } from './apps.ts';
import { GRAPH_RESOURCE, GRAPH_SCOPES } from './directory.ts';

/** Entra's answer when `resource` is not an identifier URI of the app that owns the scopes. */
export const RESOURCE_MISMATCH =
  "AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes.";

function requestedScopes(ctx: KoaContextWithOIDC): string[] {
  const scope: unknown = ctx.oidc.params?.scope;
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

function refuseUnknown(split: ScopeSplit): void {
  if (split.unknown.length === 0) return;
  const unknown = split.unknown.join(' ');
  throw new errors.InvalidScope(
    `AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope '${unknown}' does not exist.`,
    unknown,
  );
}

/**
 * The resources the scopes name, each by the identifier it was asked with: Graph for its
 * short names, an API by the first identifier URI its scopes used.
 */
function resourcesOf(split: ScopeSplit): string[] {
  const resources = split.graph.length > 0 ? [GRAPH_RESOURCE] : [];
  for (const { uris } of split.apis.values()) {
    const [first] = uris;
    if (first) resources.push(first);
  }
  return resources;
}

/** The resource indicator hooks that make oidc-provider pick audiences as Entra does. */
export function entraResourceIndicators(
  apps: AppDirectory,
  accessTokenTtl: () => number,
): {
  defaultResource: (
    ctx: KoaContextWithOIDC,
    client: unknown,
    oneOf?: readonly string[],
  ) => string | undefined;
  getResourceServerInfo: (ctx: KoaContextWithOIDC, resource: string) => ResourceServer;
} {
  function serverInfo(scope: string, audience: string): ResourceServer {
    return {
      scope,
      audience,
      accessTokenTTL: accessTokenTtl(),
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'RS256' } },
    };
  }

  return {
    // MSAL sends scopes with the resource in them (`api://…/Valet.Use`, or Graph's short
    // names) and no `resource` parameter. This is the one hook that sees the scopes of every
    // authorization, device code and refresh request, so unknown scopes are refused here
    // (oidc-provider would drop them silently). `oneOf` lists the resources a refresh
    // token holds; the scopes choose among them, as one Entra refresh token serves them all.
    defaultResource: (ctx, _client, oneOf) => {
      const split = apps.split(requestedScopes(ctx));
      refuseUnknown(split);
      const resources = resourcesOf(split);
      if (resources.length > 1) {
        const scope = requestedScopes(ctx).join(' ');
        throw new errors.InvalidScope(
          `AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scope} is not valid.`,
          scope,
        );
      }
      const [resource] = resources;
      if (!resource || !oneOf || oneOf.includes(resource)) return resource;
      // Another spelling of the same API that the refresh token holds.
      const api = apps.apiByUri(resource);
      return oneOf.find((held) => api !== undefined && apps.apiByUri(held) === api) ?? resource;
    },
    // Called with the `resource` parameter when a client sends one (MCP clients must), and
    // with the resource a code or refresh token carries. Entra accepts `resource` only when
    // it is an identifier URI of the app whose scopes are requested.
    getResourceServerInfo: (ctx, resource) => {
      const split = apps.split(requestedScopes(ctx));
      refuseUnknown(split);
      if (resource === GRAPH_RESOURCE) {
        if (split.apis.size > 0) throw new errors.InvalidTarget(RESOURCE_MISMATCH);
        return serverInfo([...GRAPH_SCOPES.keys()].join(' '), GRAPH_RESOURCE);
      }
      const api = apps.apiByUri(resource);
      const others = [...split.apis.keys()].some((asked) => asked !== api);
      if (!api || split.graph.length > 0 || others) {
        throw new errors.InvalidTarget(RESOURCE_MISMATCH);
      }
      const audience = api.accessTokenVersion === 2 ? api.appId : resource;
      return serverInfo(apps.scopeForms(api).join(' '), audience);
    },
  };
}
