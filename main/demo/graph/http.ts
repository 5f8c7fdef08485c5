import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphError } from './errors.ts';

/** Graph's request size limit. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Content type of Graph's OData payloads (success responses). */
export const ODATA_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** What a handler answers: a status and an optional JSON body. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Writes a reply; bodies of success responses get Graph's OData content type. */
export function writeReply(
  res: ServerResponse,
  reply: Reply,
  common: Record<string, string>,
): void {
  const headers: Record<string, string> = {
    'cache-control': 'no-cache',
    ...common,
    ...reply.headers,
  };
  if (reply.body === undefined) {
    headers['content-length'] = '0';
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  const payload = Buffer.from(JSON.stringify(reply.body), 'utf8');
  headers['content-type'] ??= reply.status < 400 ? ODATA_JSON : 'application/json';
  if (reply.status < 400) headers['odata-version'] = '4.0';
  headers['content-length'] = String(payload.length);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

function tooLarge(): GraphError {
  return new GraphError(
    413,
    'RequestEntityTooLarge',
    `The request body is larger than the ${MAX_BODY_BYTES / 1024 / 1024} MB Graph accepts.`,
  );
}

/** Reads a request body of at most 4 MB; larger bodies become a 413 without being buffered. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

const UNREADABLE_JSON =
  'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.';

/** Parses a JSON body the way Graph insists on it: a JSON content type and a payload. */
export function parseJsonBody(req: IncomingMessage, raw: Buffer): unknown {
  if (raw.length === 0)
    throw new GraphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new GraphError(400, 'BadRequest', UNREADABLE_JSON);
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new GraphError(400, 'BadRequest', UNREADABLE_JSON);
  }
}

/** Resolves after `ms`, or at once when the signal aborts (the server is closing). */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The preferences of a request's Prefer header (RFC 7240), by lower-case name, values
 * unquoted: `outlook.timezone="UTC", outlook.body-content-type=text`. Parameters after a `;`
 * are dropped; Graph's preferences have none.
 */
export function preferences(header: string | string[] | undefined): Map<string, string> {
  const found = new Map<string, string>();
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  // One preference per comma outside quotes.
  for (const [item] of text.matchAll(/(?:[^,"]|"[^"]*")+/g)) {
    const match = /^\s*([^\s=;"]+)\s*(?:=\s*(?:"([^"]*)"|([^\s;"]*)))?/.exec(item);
    if (match) found.set(match[1]!.toLowerCase(), match[2] ?? match[3] ?? '');
  }
  return found;
}
