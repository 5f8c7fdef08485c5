import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyRejection, ValetKey } from '../keys/key-store.ts';
import type { Refusal } from '../ratelimit/rate-limiter.ts';
import type { EndpointEvents } from './endpoint-options.ts';
import type { RequestId } from './in-flight-requests.ts';
import { sendJsonRpcError, type Rejection } from './request-guards.ts';

/** How much of a refused request's Origin its event carries (enough to tell sources apart). */
const MAX_ORIGIN_CHARS = 200;

/** A request refused before MCP: why, and what the client is told (status, message, headers). */
export interface Refused {
  reason: Rejection | KeyRejection;
  status: number;
  /** Names the cause and the fix. */
  message: string;
  headers?: Record<string, string>;
  /** The JSON-RPC error code; -32000 unless the request itself is at fault. */
  code?: number;
}

/** The refusals that need nothing from the request to say what is wrong. */
export const REFUSED = {
  host: {
    reason: 'host',
    status: 403,
    message: 'Forbidden: this endpoint only answers to 127.0.0.1, localhost or [::1]',
  },
  origin: {
    reason: 'origin',
    status: 403,
    message: 'Forbidden: requests from web pages are not allowed',
  },
  path: { reason: 'path', status: 404, message: 'Not found: the MCP endpoint is /mcp' },
  method: {
    reason: 'method',
    status: 405,
    message: 'Method not allowed: use POST, GET or DELETE',
    headers: { allow: 'POST, GET, DELETE' },
  },
  mediaType: {
    reason: 'media-type',
    status: 415,
    message: 'Unsupported media type: send application/json',
  },
  parse: {
    reason: 'parse',
    status: 400,
    message: 'Parse error: the body is not valid JSON',
    code: -32700,
  },
  unknownSession: {
    reason: 'session',
    status: 404,
    message: 'Session not found: it ended or never existed; initialize a new one',
  },
  foreignSession: {
    reason: 'session',
    status: 403,
    message: 'Forbidden: this session was opened with another valet key',
  },
  noSession: {
    reason: 'session',
    status: 400,
    message: 'Bad request: send initialize first, or the Mcp-Session-Id of an open session',
  },
} as const satisfies Record<string, Refused>;

const KEY_MESSAGES: Record<KeyRejection, string> = {
  missing:
    'A valet key is required: send `Authorization: Bearer <valet key>` (create one with `mcp-valet keys create`)',
  malformed:
    'That is not a valet key: keys start with mvk_ (create one with `mcp-valet keys create`)',
  unknown:
    'Unknown valet key: check the key in your client configuration, or create one with `mcp-valet keys create`',
  revoked:
    'This valet key was revoked: create a new one with `mcp-valet keys create` and update your client',
};

/** A request whose valet key did not pass: 401 with the challenge its client expects. */
export function keyRefused(rejected: KeyRejection): Refused {
  const challenge =
    rejected === 'missing'
      ? 'Bearer realm="mcp-valet"'
      : `Bearer realm="mcp-valet", error="invalid_token", error_description="${rejected} valet key"`;
  return {
    reason: rejected,
    status: 401,
    message: KEY_MESSAGES[rejected],
    headers: { 'www-authenticate': challenge },
  };
}

/** A body over `limit` bytes: the connection is closed rather than the rest read. */
export function tooLarge(limit: number): Refused {
  return {
    reason: 'body-size',
    status: 413,
    message: `Request body too large: the limit is ${limit} bytes`,
    headers: { connection: 'close' },
  };
}

/** A body that reuses the id of a request in flight, or repeats one within its batch. */
export function duplicateId(id: RequestId, inBatch: boolean): Refused {
  const shown = describeRequestId(id);
  return {
    reason: 'duplicate-id',
    status: 400,
    message: inBatch
      ? `Invalid request: request id ${shown} appears twice in this batch; give each request its own id`
      : `Invalid request: request id ${shown} is already in flight in this session; give each request its own id`,
    code: -32600,
  };
}

/** A request id as an error message shows it: JSON, at most 64 characters. */
function describeRequestId(id: RequestId): string {
  const shown = JSON.stringify(id);
  return shown.length > 64 ? `${shown.slice(0, 60)}…${shown.slice(-1)}` : shown;
}

/** Tells the owner that `req` was refused (and whose key sent it), and the client why. */
export function refuse(
  events: EndpointEvents,
  req: IncomingMessage,
  res: ServerResponse,
  refused: Refused,
  keyId?: string,
): void {
  const origin = req.headers.origin;
  events.onRejected?.({
    reason: refused.reason,
    status: refused.status,
    ...(keyId ? { keyId } : {}),
    ...(origin !== undefined ? { origin: origin.slice(0, MAX_ORIGIN_CHARS) } : {}),
  });
  sendJsonRpcError(res, refused.status, refused.message, refused.code, refused.headers);
}

/** Tells the owner that `key` went over a rate limit, and the client when to retry. */
export function refuseOverLimit(
  events: EndpointEvents,
  res: ServerResponse,
  key: ValetKey,
  refusal: Refusal,
): void {
  events.onRateLimited?.({
    key,
    reason: refusal.reason,
    retryAfterSeconds: refusal.retryAfterSeconds,
  });
  const what =
    refusal.reason === 'rate'
      ? `valet key '${key.name}' is over its request rate`
      : refusal.reason === 'key-concurrency'
        ? `valet key '${key.name}' has too many requests in flight`
        : 'MCP Valet has too many requests in flight';
  sendJsonRpcError(
    res,
    429,
    `Too many requests: ${what}; retry after ${refusal.retryAfterSeconds} s`,
    -32000,
    { 'retry-after': String(refusal.retryAfterSeconds) },
  );
}
