/** Host names that are loopback, as a URL's `hostname` spells them. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The most redirect URIs one client may register, and the longest one. */
export const MAX_REDIRECT_URIS = 10;
export const MAX_REDIRECT_URI_LENGTH = 2000;

/**
 * Why `uri` cannot be a redirect URI, in a few words that finish "the redirect URI … ", or
 * undefined when it can: https anywhere, or http on a loopback host only; no fragment and no
 * user name or password (RFC 6749 §3.1.2, RFC 8252 §7.3).
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > MAX_REDIRECT_URI_LENGTH)
    return `is longer than ${MAX_REDIRECT_URI_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not a URL';
  }
  if (uri.includes('#')) return 'has a fragment (#…), which a redirect URI may not have';
  if (url.username || url.password) return 'carries a user name or password';
  if (url.protocol === 'https:') return url.hostname ? undefined : 'has no host';
  if (url.protocol === 'http:')
    return LOOPBACK_HOSTS.has(url.hostname)
      ? undefined
      : 'uses http on a host that is not loopback: use https, or http on localhost, 127.0.0.1 or [::1]';
  return `uses the scheme ${url.protocol.slice(0, 20)}: only https, or http on a loopback host, is accepted`;
}

/** True when every URI is on a loopback host: the consent page then warns the user. */
export function allLoopback(uris: readonly string[]): boolean {
  return uris.every((uri) => URL.canParse(uri) && LOOPBACK_HOSTS.has(new URL(uri).hostname));
}
