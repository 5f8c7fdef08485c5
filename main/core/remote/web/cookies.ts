import type { Request, Response } from 'express';

/** The names and attributes of the server's cookies for one public URL. */
export interface WebCookies {
  /** The web session: `__Host-mv_web` on https. */
  session: string;
  /** Binds a sign-in to the browser that started it: `__Host-mv_login` on https. */
  login: string;
  secure: boolean;
}

/**
 * The cookie names for a public URL. On https they carry the `__Host-` prefix, which makes the
 * browser refuse them unless Secure, on Path=/ and without Domain, so no sibling host or
 * plain-http page can plant or shadow them. Browsers refuse `__Host-` and Secure cookies from
 * an http origin, so a public URL on http://localhost (allowed for trying the server on one
 * machine, where nobody else is on the path) gets the same cookies without prefix and Secure.
 */
export function webCookiesFor(publicUrl: string): WebCookies {
  const secure = new URL(publicUrl).protocol === 'https:';
  const prefix = secure ? '__Host-' : '';
  return { session: `${prefix}mv_web`, login: `${prefix}mv_login`, secure };
}

/** The value of cookie `name` in the request, or undefined. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    // Our values are base64url, never quoted or percent-encoded.
    return /^[A-Za-z0-9_-]{1,200}$/.test(value) ? value : undefined;
  }
  return undefined;
}

/** Sets an HttpOnly, SameSite=Lax cookie on Path=/; `maxAgeMs` undefined: until the browser closes. */
export function setCookie(
  res: Response,
  cookies: WebCookies,
  name: string,
  value: string,
  maxAgeMs?: number,
): void {
  // Lax, not Strict: the IdP sends the browser back to /auth/callback from another site, and
  // the sign-in cookie must come along on that top-level GET.
  res.cookie(name, value, {
    httpOnly: true,
    secure: cookies.secure,
    sameSite: 'lax',
    path: '/',
    ...(maxAgeMs !== undefined ? { maxAge: maxAgeMs } : {}),
  });
}

/** Removes a cookie set by setCookie. */
export function clearCookie(res: Response, cookies: WebCookies, name: string): void {
  res.clearCookie(name, { httpOnly: true, secure: cookies.secure, sameSite: 'lax', path: '/' });
}
