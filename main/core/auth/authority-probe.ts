import type { ResolvedAuthority } from '../config/authority.ts';

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Finds out why MSAL could not resolve the authority's endpoints. MSAL reports every
 * discovery problem as `endpoints_resolution_error` and keeps the cause in verbose logs,
 * so this fetches the discovery document itself and names the real cause and its fix.
 */
export async function diagnoseAuthority(
  authority: ResolvedAuthority,
  timeoutMs = 5000,
): Promise<string> {
  const url = `${authority.url}/v2.0/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (err) {
    const code = errorCode(err);
    if (code && TLS_CODES.has(code)) {
      return `the TLS certificate of ${authority.host} is not trusted (${code}): if it is signed by your own or a corporate CA, start mcp-valet with NODE_EXTRA_CA_CERTS set to that CA's PEM file`;
    }
    if (code === 'TimeoutError' || code === 'ABORT_ERR') {
      return `${authority.host} did not answer within ${timeoutMs / 1000} s: check VALET_AUTHORITY and your network or proxy`;
    }
    return `${authority.host} cannot be reached (${code ?? 'network error'}): check VALET_AUTHORITY, that the identity provider is running, and your network`;
  }
  if (!response.ok) {
    await response.body?.cancel();
    return `${url} answered HTTP ${response.status}: check the tenant in VALET_AUTHORITY or VALET_TENANT_ID`;
  }
  let issuer: unknown;
  try {
    issuer = ((await response.json()) as { issuer?: unknown }).issuer;
  } catch {
    return `${url} did not return an OpenID configuration document: check VALET_AUTHORITY`;
  }
  if (typeof issuer !== 'string' || !URL.canParse(issuer)) {
    return `${url} has no valid issuer: the identity provider is misconfigured`;
  }
  const issuerHost = new URL(issuer).host.toLowerCase();
  if (issuerHost !== authority.host && !authority.knownAuthorities.includes(issuerHost)) {
    return `the identity provider's issuer ${issuer} does not match the authority host ${authority.host}: use the same host name in VALET_AUTHORITY as in the issuer (for example localhost and 127.0.0.1 are different hosts)`;
  }
  return `the discovery document at ${url} looks valid, yet MSAL could not use it: run with VALET_LOG_LEVEL=debug for MSAL's own diagnostics`;
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  // fetch wraps the socket error: TypeError('fetch failed', { cause: Error{code} }).
  for (let depth = 0; depth < 4 && e; depth++) {
    const obj = e as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof obj.code === 'string') return obj.code;
    if (obj.name === 'TimeoutError' || obj.name === 'AbortError') return 'TimeoutError';
    e = obj.cause;
  }
  return undefined;
}
