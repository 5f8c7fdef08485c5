import type { TokenFreshness } from './auth-types.ts';

interface SerializedAccessToken {
  home_account_id?: string;
  target?: string;
  expires_on?: string;
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

/**
 * Reads access-token freshness for one account from MSAL's serialized cache: the scopes
 * and expiry of each cached token, never the token itself. Works offline.
 */
export function tokenFreshness(
  serializedCache: string,
  homeAccountId: string,
  now = Date.now(),
): TokenFreshness[] {
  let cache: { AccessToken?: Record<string, SerializedAccessToken> };
  try {
    cache = JSON.parse(serializedCache) as typeof cache;
  } catch {
    return [];
  }
  return Object.values(cache.AccessToken ?? {})
    .filter((t) => t.home_account_id === homeAccountId && t.expires_on)
    .map((t) => {
      const expiresMs = Number(t.expires_on) * 1000;
      return {
        scopes: (t.target ?? '').split(' ').filter((s) => s && !OIDC_SCOPES.has(s.toLowerCase())),
        expiresOn: new Date(expiresMs).toISOString(),
        expired: expiresMs <= now,
      };
    })
    .sort((a, b) => b.expiresOn.localeCompare(a.expiresOn));
}
