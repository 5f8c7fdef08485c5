import type { Account, JWTStructured } from 'oidc-provider';
import type { IdpUser } from './types.ts';

/** Claims Entra puts in ID and access tokens about the signed-in user. */
export function userClaims(user: IdpUser, tenantId: string): Record<string, unknown> {
  return {
    oid: user.id,
    tid: tenantId,
    preferred_username: user.username,
    name: user.name,
    ver: '2.0',
    ...(user.roles?.length ? { roles: [...user.roles] } : {}),
  };
}

/** The oidc-provider account for a user: its ID token claims are Entra's. */
export function accountFor(user: IdpUser, tenantId: string): Account {
  return {
    accountId: user.id,
    claims: () => ({ sub: user.id, email: user.username, ...userClaims(user, tenantId) }),
  };
}

/**
 * Reshapes oidc-provider's JWT access token into a Graph-style one: `scp` instead of
 * `scope`, `azp`/`appid` instead of `client_id`, the user's claims, and `typ: JWT`.
 */
export function toGraphAccessToken(
  jwt: JWTStructured,
  user: IdpUser | undefined,
  tenantId: string,
): void {
  const { scope, client_id: clientId, ...rest } = jwt.payload;
  jwt.header = { ...jwt.header, typ: 'JWT' };
  jwt.payload = {
    ...rest,
    nbf: rest.iat,
    ...(typeof scope === 'string' ? { scp: scope } : {}),
    ...(typeof clientId === 'string' ? { azp: clientId, appid: clientId } : {}),
    ...(user ? userClaims(user, tenantId) : { tid: tenantId, ver: '2.0' }),
  };
}

/** How an API token is shaped: its version, and how the client authenticated. */
export interface ApiTokenShape {
  version: 1 | 2;
  /** `azpacr`/`appidacr`: 0 public client, 1 client secret, 2 certificate. */
  clientAuth: '0' | '1' | '2';
}

/**
 * Reshapes oidc-provider's JWT access token into one for an app's API, as Entra issues
 * them: `scp` holds the scope names without the identifier URI. A v2 token has
 * `aud=<app ID>` (set by the resource server), `azp` and the v2.0 issuer; a v1 token has
 * `aud=<App ID URI>`, `appid` and the sts.windows.net issuer.
 */
export function toApiAccessToken(
  jwt: JWTStructured,
  user: IdpUser | undefined,
  tenantId: string,
  shape: ApiTokenShape,
): void {
  const { scope, client_id: clientId, ...rest } = jwt.payload;
  const names = new Set(
    (typeof scope === 'string' ? scope : '')
      .split(' ')
      .filter(Boolean)
      .map((s) => s.slice(s.lastIndexOf('/') + 1)),
  );
  const client = typeof clientId === 'string' ? clientId : '';
  jwt.header = { ...jwt.header, typ: 'JWT' };
  jwt.payload = {
    ...rest,
    nbf: rest.iat,
    scp: [...names].join(' '),
    ...(user ? userClaims(user, tenantId) : { tid: tenantId }),
    ...(shape.version === 2
      ? { azp: client, azpacr: shape.clientAuth, ver: '2.0' }
      : {
          iss: `https://sts.windows.net/${tenantId}/`,
          appid: client,
          appidacr: shape.clientAuth,
          ver: '1.0',
          ...(user ? { upn: user.username, unique_name: user.username } : {}),
        }),
  };
}

/** MSAL's `client_info`: base64url JSON naming the home account, so homeAccountId is `<oid>.<tid>`. */
export function clientInfo(accountId: string, tenantId: string): string {
  return Buffer.from(JSON.stringify({ uid: accountId, utid: tenantId })).toString('base64url');
}
