/** Host names that are loopback, as a URL's `hostname` spells them. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The most redirect URIs one client may register, and the longest one. */
export const MAX_REDIRECT_URIS = 10;
export const MAX_REDIRECT_URI_LENGTH = 2000;

/**
 * Schemes that load or run something in the browser or read local files: never a place to send
 * an authorization code. Any other non-web scheme is an app's own (RFC 8252 §7.1), such as
 * Cursor's `cursor://`, which the OS hands to the app that registered it.
 */
const REFUSED_SCHEMES: ReadonlySet<string> = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'blob:',
  'about:',
  'filesystem:',
  'ftp:',
  'ws:',
  'wss:',
  'view-source:',
  'intent:',
]);

/**
 * Why `uri` cannot be a redirect URI, in a few words that finish "the redirect URI … ", or
 * undefined when it can: https anywhere, http on a loopback host only, or an app's own scheme
 * (RFC 8252 §7.1); no fragment and no user name or password (RFC 6749 §3.1.2, RFC 8252 §7.3).
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
  if (REFUSED_SCHEMES.has(url.protocol))
    return `uses the scheme ${url.protocol}: only https, http on a loopback host, or an app's own scheme is accepted`;
  return undefined;
}

/**
 * Where a redirect URI sends the browser, as the consent page names it: the host for a web
 * address, the scheme and host for an app's own scheme (so `cursor://…` reads as an app).
 */
export function redirectTarget(uri: string): string {
  const url = new URL(uri);
  return url.protocol === 'https:' || url.protocol === 'http:'
    ? url.host
    : `${url.protocol}//${url.host}`;
}

/**
 * True when every URI stays on the user's device (a loopback host, or an app's own scheme, which
 * any app there may claim): the consent page then warns the user.
 */
export function allLoopback(uris: readonly string[]): boolean {
  return uris.every((uri) => {
    if (!URL.canParse(uri)) return false;
    const url = new URL(uri);
    const web = url.protocol === 'https:' || url.protocol === 'http:';
    return !web || LOOPBACK_HOSTS.has(url.hostname);
  });
}
