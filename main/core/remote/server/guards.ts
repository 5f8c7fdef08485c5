import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** The largest request body the remote server reads, as the local endpoint: 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Writes a refusal in the JSON-RPC error shape MCP clients understand, never cached. */
export function refuse(res: Response, status: number, message: string): void {
  res
    .status(status)
    .set('cache-control', 'no-store')
    .json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
}

/** host[:port] as a URL of that scheme writes it: lower case, the scheme's default port left out. */
function normalHost(host: string, protocol: string): string {
  const lower = host.toLowerCase();
  const defaultPort = protocol === 'https:' ? ':443' : ':80';
  return lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower;
}

/**
 * Refuses a request whose Host is not the public URL's host (port included). A DNS-rebinding
 * page reaches the server under a host name of its own, so this is what keeps it out; a proxy
 * in front must pass the public Host on, as the public URL is never derived from the request.
 */
export function requirePublicHost(publicUrl: string): RequestHandler {
  const url = new URL(publicUrl);
  const expected = normalHost(url.host, url.protocol);
  return function requireHost(req: Request, res: Response, next: NextFunction): void {
    const host = req.headers.host;
    if (host !== undefined && normalHost(host, url.protocol) === expected) return next();
    refuse(
      res,
      403,
      `This server answers only to ${expected}, the host of its public URL; a proxy in front of it must pass that Host on`,
    );
  };
}

/**
 * Refuses a request that carries an Origin other than the allowed ones (the public origin):
 * a browser says where a cross-site request comes from, and no other site may call in with
 * the user's cookies. Requests without Origin (MCP clients, top-level navigations) pass.
 */
export function refuseForeignOrigin(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins.map((o) => o.toLowerCase()));
  return function refuseOrigin(req: Request, res: Response, next: NextFunction): void {
    const origin = req.headers.origin;
    if (origin === undefined || allowed.has(origin.toLowerCase())) return next();
    refuse(res, 403, 'Requests from another origin are refused');
  };
}

/**
 * Refuses a body declared larger than `maxBytes` before any of it is read. Bodies sent in
 * chunks are held to the same limit by the parser of each route.
 */
export function limitBody(maxBytes: number = MAX_BODY_BYTES): RequestHandler {
  return function bodyLimit(req: Request, res: Response, next: NextFunction): void {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (!(declared > maxBytes)) return next();
    // The rest of the body is not wanted: the connection closes after the answer.
    res.set('connection', 'close');
    refuse(res, 413, `The request body is larger than ${maxBytes} bytes`);
  };
}

/** The one style of the server's pages, allowed by its hash so that no other inline style runs. */
export const PAGE_STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}button{font:inherit}';

const PAGE_STYLE_HASH = createHash('sha256').update(PAGE_STYLE).digest('base64');

/** The Content-Security-Policy of every response: no script at all, no framing, forms to us only. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${PAGE_STYLE_HASH}'`,
  "frame-ancestors 'none'",
  "form-action 'self'",
  "base-uri 'none'",
].join('; ');

/**
 * Headers on every response: HSTS when the public URL is https (even when TLS ends at a proxy,
 * browsers reach us over https), no sniffing, no referrer to other sites (a callback URL
 * carries a code), no framing, and no caching, since most answers are about a signed-in user
 * or a sign-in. The referrer policy is same-origin, not no-referrer: under no-referrer Chrome
 * sends `Origin: null` with our own forms, which the Origin check must then refuse.
 */
export function securityHeaders(publicUrl: string): RequestHandler {
  const https = new URL(publicUrl).protocol === 'https:';
  return function setSecurityHeaders(_req: Request, res: Response, next: NextFunction): void {
    if (https) res.set('strict-transport-security', 'max-age=31536000');
    res.set({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'x-frame-options': 'DENY',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'cache-control': 'no-store',
    });
    next();
  };
}
