import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTVerifyGetKey } from 'jose';
import { GraphError } from './errors.ts';
import type { GraphKeySource } from './types.ts';

/** Graph's own application ID; its 401 challenge names it as `client_id`. */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** Who a verified token speaks for. */
export interface TokenPrincipal {
  userId: string;
  scopes: string[];
}

/** Settings for `createTokenVerifier`. */
export interface VerifierOptions {
  issuer: string;
  audience: string;
  keys: GraphKeySource;
}

/** Checks bearer tokens the way Graph does, answering with Graph's 401s. */
export type TokenVerifier = (authorization: string | undefined) => Promise<TokenPrincipal>;

function keyResolver(keys: GraphKeySource): JWTVerifyGetKey {
  if ('jwksUri' in keys) return createRemoteJWKSet(new URL(keys.jwksUri));
  return createLocalJWKSet(keys.jwks as JSONWebKeySet);
}

/** Where a client signs in again: the issuer's v2 authorize endpoint (Graph names Entra's). */
function authorizationUri(issuer: string): string {
  return `${issuer.replace(/\/v2\.0\/?$/, '')}/oauth2/v2.0/authorize`;
}

function unauthorized(issuer: string, message: string, tokenSent: boolean): GraphError {
  const challenge = [
    'Bearer realm=""',
    `authorization_uri="${authorizationUri(issuer)}"`,
    `client_id="${GRAPH_APP_ID}"`,
    // RFC 6750: only a request that carried a token gets an error attribute.
    ...(tokenSent ? ['error="invalid_token"'] : []),
  ].join(', ');
  return new GraphError(401, 'InvalidAuthenticationToken', message, {
    headers: { 'www-authenticate': challenge },
  });
}

function failureMessage(error: unknown): string | undefined {
  if (error instanceof errors.JWTExpired)
    return 'Lifetime validation failed, the token is expired.';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'Access token validation failure. Invalid audience.';
    if (error.claim === 'iss') return 'Access token validation failure. Invalid issuer.';
    if (error.claim === 'nbf') return 'Lifetime validation failed, the token is not yet valid.';
    return `Access token validation failure. Invalid ${error.claim} claim.`;
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return 'IDX14100: JWT is not well formed.';
  }
  if (error instanceof errors.JOSEError) return 'Access token validation failure.';
  return undefined;
}

/** A verifier for RS256 access tokens of the given issuer and audience, for the known users. */
export function createTokenVerifier(
  options: VerifierOptions,
  userIdFor: (oid: string) => string | undefined,
): TokenVerifier {
  const getKey = keyResolver(options.keys);
  return async (authorization) => {
    const match = /^Bearer +(\S+)\s*$/i.exec(authorization ?? '');
    const token = match?.[1];
    if (!token) throw unauthorized(options.issuer, 'Access token is empty.', false);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'oid'],
        // The IdP runs on this machine's clock; forgiving skew would let expired tokens pass.
        clockTolerance: 0,
      }));
    } catch (error) {
      const message = failureMessage(error);
      if (message === undefined) throw error;
      throw unauthorized(options.issuer, message, true);
    }
    const userId = typeof payload.oid === 'string' ? userIdFor(payload.oid) : undefined;
    if (userId === undefined) {
      throw unauthorized(options.issuer, 'Access token validation failure. Unknown user.', true);
    }
    const scp = typeof payload.scp === 'string' ? payload.scp : '';
    return { userId, scopes: scp.split(' ').filter(Boolean) };
  };
}
