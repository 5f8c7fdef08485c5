import { IncomingMessage } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Thrown by `readBody` when a body is larger than allowed; answer 413. */
export class BodyTooLargeError extends Error {
  constructor(limit: number) {
    super(`Request body larger than ${limit} bytes.`);
    this.name = 'BodyTooLargeError';
  }
}

/** Reads a request body, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Sends an HTML page that must not be cached or framed. Its forms may post only to the
 * IdP; `redirectOrigin` is the app's origin, where the IdP redirects after a form is sent,
 * which the browser checks against `form-action` too.
 */
export function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  redirectOrigin?: string,
): void {
  const formAction = redirectOrigin ? `'self' ${redirectOrigin}` : "'self'";
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'`,
  });
  res.end(html);
}

/** Sends a JSON body, e.g. an OAuth error. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

/**
 * A copy of `req` whose body is `body`. The original body has been read (to record or
 * rewrite it), and oidc-provider reads the body from the request stream itself.
 */
export function withBody(req: IncomingMessage, body: Buffer): IncomingMessage {
  const replay = new IncomingMessage(req.socket as Socket);
  replay.method = req.method;
  replay.url = req.url;
  replay.httpVersion = req.httpVersion;
  replay.httpVersionMajor = req.httpVersionMajor;
  replay.httpVersionMinor = req.httpVersionMinor;
  const headers = { ...req.headers, 'content-length': String(body.length) };
  delete headers['transfer-encoding'];
  replay.headers = headers;
  replay.rawHeaders = Object.entries(headers).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value ?? '']).flatMap((v) => [name, v]),
  );
  replay.push(body);
  replay.push(null);
  // The body is all there. Without this, the message counts as aborted when it is
  // destroyed after reading, and Node destroys the shared socket with it.
  replay.complete = true;
  return replay;
}
