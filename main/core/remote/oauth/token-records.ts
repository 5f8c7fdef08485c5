import type { ValetScope } from './scopes.ts';

/** What an authorization code stands for (`code:{sha256}`, 60 s, single use). */
export interface CodeRecord {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  keyId: string;
  scopes: ValetScope[];
}

/** What an access token stands for (`at:{sha256}`, for the token TTL). */
export interface AccessRecord {
  keyId: string;
  clientId: string;
  scopes: ValetScope[];
  resource: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** What a refresh token stands for (`rt:{sha256}`, for the refresh TTL, rotated on use). */
export interface RefreshRecord {
  keyId: string;
  clientId: string;
  scopes: ValetScope[];
  resource: string;
}

/** A spent refresh token or code (`rtused:` / `codeused:`): whose family to revoke if it comes back. */
export interface SpentRecord {
  keyId: string;
  clientId: string;
}

/** The store key of each record, from the SHA-256 of its secret. */
export const recordKey = {
  code: (hash: string) => `code:${hash}`,
  codeUsed: (hash: string) => `codeused:${hash}`,
  access: (hash: string) => `at:${hash}`,
  refresh: (hash: string) => `rt:${hash}`,
  refreshUsed: (hash: string) => `rtused:${hash}`,
};
