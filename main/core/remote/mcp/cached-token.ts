/** MSAL's margin: a cached access token this close to its expiry is refreshed, not used. */
const RENEWAL_MARGIN_SECONDS = 300;

/** Scopes MSAL leaves out when it looks a token up by its scopes. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access']);

interface CachedAccessToken {
  home_account_id?: string;
  client_id?: string;
  credential_type?: string;
  target?: string;
  expires_on?: string;
  refresh_on?: string;
  cached_at?: string;
}

/**
 * Whether MSAL's serialized cache holds an access token that acquireTokenSilent would return
 * as it is, without asking the authority: one of this account and app for every scope asked,
 * neither within MSAL's renewal margin of its expiry nor past its refresh time, and not cached
 * in the future (MSAL takes a clock turned back as a reason to refresh). Read as MSAL
 * reads it, so a call that will refresh is known before it goes out (and can be made
 * single-flight); a cache that does not parse holds none.
 */
export function holdsUsableToken(
  serializedCache: string,
  wanted: { homeAccountId: string; clientId: string; scopes: readonly string[] },
  nowMs = Date.now(),
): boolean {
  let cache: { AccessToken?: Record<string, CachedAccessToken> };
  try {
    cache = JSON.parse(serializedCache) as typeof cache;
  } catch {
    return false;
  }
  const now = nowMs / 1000;
  const asked = wanted.scopes.map((s) => s.toLowerCase()).filter((s) => !OIDC_SCOPES.has(s));
  return Object.values(cache.AccessToken ?? {}).some((token) => {
    if (token.home_account_id !== wanted.homeAccountId) return false;
    if (token.client_id !== wanted.clientId || token.credential_type !== 'AccessToken')
      return false;
    const held = new Set((token.target ?? '').toLowerCase().split(' '));
    if (!asked.every((scope) => held.has(scope))) return false;
    const expiresOn = Number(token.expires_on);
    const refreshOn = token.refresh_on === undefined ? Infinity : Number(token.refresh_on);
    const cachedAt = Number(token.cached_at ?? 0);
    return expiresOn > now + RENEWAL_MARGIN_SECONDS && refreshOn > now && cachedAt <= now;
  });
}
