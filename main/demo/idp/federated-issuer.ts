import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT, exportJWK } from 'jose';
import type { JSONWebKeySet } from 'jose';

/** The audience Entra requires of a token that stands in as a federated identity credential. */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/** What a federated token says: who it is about, for whom, and when it is valid. */
export interface FederatedTokenClaims {
  /** `sub`: the workload, e.g. `system:serviceaccount:valet:mcp-valet` or an identity's object ID. */
  subject: string;
  /** `aud`; `api://AzureADTokenExchange` by default. */
  audience?: string;
  /** `iat` and `nbf`; now by default. */
  issuedAt?: Date;
  /** `exp`; an hour after `issuedAt` by default. */
  expiresAt?: Date;
  /** Further claims, e.g. `oid` or `tid`. */
  extra?: Record<string, unknown>;
}

/**
 * A token issuer outside the tenant that an app trusts through a federated identity
 * credential: a Kubernetes cluster's service account issuer, or the managed identity
 * platform. Its keys are made here; the IdP is given its issuer and public keys.
 */
export interface FederatedTokenIssuer {
  /** `iss` of every token it signs. */
  readonly issuer: string;
  /** The public keys, as its OpenID configuration's JWKS would list them. */
  readonly jwks: JSONWebKeySet;
  /** Signs a token (RS256, with `kid` and a fresh `jti`). */
  sign(claims: FederatedTokenClaims): Promise<string>;
}

/** Makes a token issuer with a new RSA key. */
export async function createFederatedIssuer(issuer: string): Promise<FederatedTokenIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwks: JSONWebKeySet = {
    keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }],
  };
  return {
    issuer,
    jwks,
    sign(claims) {
      const issuedAt = claims.issuedAt ?? new Date();
      const expiresAt = claims.expiresAt ?? new Date(issuedAt.getTime() + 60 * 60 * 1000);
      return new SignJWT({ ...claims.extra })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
        .setIssuer(issuer)
        .setSubject(claims.subject)
        .setAudience(claims.audience ?? TOKEN_EXCHANGE_AUDIENCE)
        .setIssuedAt(issuedAt)
        .setNotBefore(issuedAt)
        .setExpirationTime(expiresAt)
        .setJti(randomUUID())
        .sign(privateKey);
    },
  };
}
