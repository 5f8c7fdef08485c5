import type { IncomingMessage } from 'node:http';
import { REFUSED, tooLarge, type Refused } from './refusals.ts';
import { readJsonBody } from './request-guards.ts';

/** The largest body an MCP request may have, unless the endpoint is told otherwise. */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** A Host that is not the endpoint's own may be DNS rebinding: refused. */
export function hostRefusal(req: IncomingMessage, hosts: Set<string>): Refused | undefined {
  return hosts.has(req.headers.host ?? '') ? undefined : REFUSED.host;
}

/**
 * A page's Origin is refused unless allowed, or the endpoint's own (`http://` + the Host,
 * checked before this).
 */
export function originRefusal(
  req: IncomingMessage,
  allowed: readonly string[] = [],
): Refused | undefined {
  const { origin, host } = req.headers;
  if (origin === undefined || origin === `http://${host}` || allowed.includes(origin))
    return undefined;
  return REFUSED.origin;
}

/** The path a request asks for, without its query. */
export function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
}

/** Streamable HTTP has POST (messages), GET (the event stream) and DELETE (end the session). */
export function methodRefusal(req: IncomingMessage): Refused | undefined {
  return req.method === 'POST' || req.method === 'GET' || req.method === 'DELETE'
    ? undefined
    : REFUSED.method;
}

/**
 * The JSON body of a POST (undefined for other methods), or why it is refused: not JSON by
 * its Content-Type, over `maxBytes` (without reading the rest), or not parsable.
 */
export async function bodyOf(
  req: IncomingMessage,
  maxBytes = DEFAULT_MAX_BODY_BYTES,
): Promise<{ body: unknown } | { refused: Refused }> {
  if (req.method !== 'POST') return { body: undefined };
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
    return { refused: REFUSED.mediaType };
  const read = await readJsonBody(req, maxBytes);
  if (read.ok) return { body: read.value };
  return { refused: read.reason === 'too-large' ? tooLarge(maxBytes) : REFUSED.parse };
}
