/**
 * Hosts of the public Microsoft clouds. MSAL carries metadata for these; any other host is
 * passed to MSAL as a known authority, so that it never calls out for instance discovery.
 */
export const MICROSOFT_AUTHORITY_HOSTS: ReadonlySet<string> = new Set([
  'login.microsoftonline.com',
  'login.microsoft.com',
  'login.windows.net',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login-us.microsoftonline.com',
  'login.usgovcloudapi.net',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
  'login.microsoftonline.de',
]);

/** An authority URL taken apart for MSAL. */
export interface ResolvedAuthority {
  /** The authority URL without a trailing slash, e.g. https://login.microsoftonline.com/contoso.com */
  url: string;
  /** host[:port], as MSAL compares it. */
  host: string;
  /** The first path segment: the tenant. */
  tenant: string;
  /** Hosts to give MSAL as `knownAuthorities`: empty for the Microsoft clouds. */
  knownAuthorities: string[];
}

/** Splits an https authority URL (already validated) into what MSAL needs. */
export function resolveAuthority(authority: string): ResolvedAuthority {
  const u = new URL(authority);
  const path = u.pathname.replace(/\/+$/, '');
  const tenant = path.split('/').filter(Boolean)[0] ?? '';
  const host = u.host.toLowerCase();
  return {
    url: `${u.protocol}//${host}${path}`,
    host,
    tenant,
    knownAuthorities: MICROSOFT_AUTHORITY_HOSTS.has(u.hostname.toLowerCase()) ? [] : [host],
  };
}

/** The default authority for a tenant in the public cloud. */
export function defaultAuthority(tenant: string): string {
  return `https://login.microsoftonline.com/${tenant}`;
}
