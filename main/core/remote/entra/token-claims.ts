import {
  InsufficientScopeError,
  InvalidTokenError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { JWTPayload } from 'jose';
import type { ResolvedAuthority } from '../../config/authority.ts';
import type { EntraTokenExtra } from './principal.ts';

/** What entra mode accepts: RemoteConfig's entra settings, and the resource it protects. */
export interface EntraTokenRules {
  tenantId: string;
  authority: ResolvedAuthority;
  /** Accepted `aud` values: the API's client ID and identifier URIs. */
  apiAudiences: readonly string[];
  /** The full scope clients request, such as `<public>/mcp/Valet.Use`; tokens carry its last segment in `scp`. */
  apiScope: string;
  /** Client apps (`azp`) allowed to call; empty allows any the tenant lets get a token. */
  entraClients: readonly string[];
  acceptV1Tokens: boolean;
  /** An app role that stands in for the scope (service callers carry `roles`, not `scp`). */
  appRole?: string | undefined;
}

/** The claims of a token that passed every rule. */
export interface AcceptedClaims {
  scopes: string[];
  extra: EntraTokenExtra;
}

/** Entra's v1 issuer of a tenant: the sts host of the authority's cloud. */
export function v1Issuer(authority: ResolvedAuthority, tenantId: string): string {
  const china = /(^|\.)(chinacloudapi\.cn|microsoftonline\.cn)$/.test(authority.host);
  return `https://${china ? 'sts.chinacloudapi.cn' : 'sts.windows.net'}/${tenantId}/`;
}

/** Entra's v2 issuer of a tenant at the authority's host. */
export function v2Issuer(authority: ResolvedAuthority, tenantId: string): string {
  return `https://${authority.host}/${tenantId}/v2.0`;
}

/** The scope name an access token carries in `scp` for the full scope a client requests. */
export function scopeName(apiScope: string): string {
  return apiScope.slice(apiScope.lastIndexOf('/') + 1);
}

const words = (value: unknown): string[] =>
  typeof value === 'string' ? value.split(' ').filter(Boolean) : [];

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/**
 * Checks the claims of a token whose signature and lifetime already verified, in the order a
 * person debugging a refusal needs: issuer and version, tenant, audience, client, user, scope.
 * A refusal is an InvalidTokenError (401), a missing scope an InsufficientScopeError (403);
 * their messages are fixed sentences that quote nothing from the token.
 */
export function checkEntraClaims(payload: JWTPayload, rules: EntraTokenRules): AcceptedClaims {
  const refuse = (reason: string) => new InvalidTokenError(reason);
  const tid = payload.tid;
  const v2 = v2Issuer(rules.authority, rules.tenantId);
  const v1 = v1Issuer(rules.authority, rules.tenantId);
  if (payload.iss !== v2) {
    if (payload.iss === v1 && !rules.acceptV1Tokens)
      throw refuse(
        'The token is an Entra v1 token; this server accepts v2 tokens only (set requestedAccessTokenVersion to 2 in the API app manifest)',
      );
    if (payload.iss !== v1) {
      if (typeof tid === 'string' && tid !== rules.tenantId)
        throw refuse("The token was issued for another tenant than this server's");
      throw refuse("The token was not issued by this server's authority");
    }
  }
  if (tid !== rules.tenantId)
    throw refuse("The token was issued for another tenant than this server's");
  if (typeof payload.aud !== 'string' || !rules.apiAudiences.includes(payload.aud))
    throw refuse('The token was issued for another audience than this API');

  // v2 tokens name the client in azp, v1 tokens in appid; ID tokens have neither.
  const client = payload.iss === v2 ? payload.azp : payload.appid;
  if (typeof client !== 'string' || client === '')
    throw refuse('The token names no client app, so it is not an access token for this API');
  if (rules.entraClients.length > 0 && !rules.entraClients.includes(client))
    throw refuse('The token was issued to a client app this server does not allow');
  if (typeof payload.oid !== 'string' || payload.oid === '')
    throw refuse('The token names no user (oid)');

  const scopes = words(payload.scp);
  const roles = strings(payload.roles);
  const name = scopeName(rules.apiScope);
  if (!scopes.includes(name) && !(rules.appRole && roles.includes(rules.appRole)))
    throw new InsufficientScopeError(`The token lacks the scope ${name}`);

  return {
    scopes,
    extra: {
      oid: payload.oid,
      tid: rules.tenantId,
      name: typeof payload.name === 'string' ? payload.name : undefined,
      username:
        typeof payload.preferred_username === 'string'
          ? payload.preferred_username
          : typeof payload.upn === 'string'
            ? payload.upn
            : undefined,
      roles,
      azp: client,
    },
  };
}
