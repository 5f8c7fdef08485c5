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

/** MSAL's `client_info`: base64url JSON naming the home account, so homeAccountId is `<oid>.<tid>`. */
export function clientInfo(accountId: string, tenantId: string): string {
  return Buffer.from(JSON.stringify({ uid: accountId, utid: tenantId })).toString('base64url');
}
