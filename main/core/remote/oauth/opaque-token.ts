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

/** Hex SHA-256 of a secret or URL: what the store keeps instead of the secret itself. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}
