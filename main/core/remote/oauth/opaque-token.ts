import { hash, randomBytes } from 'node:crypto';

/** What each kind of opaque secret starts with, so that secret scanners can tell them apart. */
export const TOKEN_PREFIXES = {
  accessToken: 'mva_',
  refreshToken: 'mvr_',
  code: 'mvc_',
  request: 'mvq_',
} as const;

/** A new opaque secret: the kind's prefix and 256 random bits, base64url. */
export function newOpaqueToken(kind: keyof typeof TOKEN_PREFIXES): string {
  return TOKEN_PREFIXES[kind] + randomBytes(32).toString('base64url');
}

/**
 * A new access token of the valet key `keyId`: `mva_<key id>_<256 random bits>`. The key's ID
 * is no secret; carrying it lets a request's check read the token's record and its key in one
 * round trip to the store.
 */
export function newAccessToken(keyId: string): string {
  return `${TOKEN_PREFIXES.accessToken}${keyId}_${randomBytes(32).toString('base64url')}`;
}

/** The key ID an access token names, or undefined for a token without one. */
export function keyIdOfAccessToken(token: string): string | undefined {
  return /^mva_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/.exec(token)?.[1];
}

/** Hex SHA-256 of a secret or URL: what the store keeps instead of the secret itself. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}
