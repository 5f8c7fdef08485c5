import {
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ErrorReply,
  MultiErrorReply,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
} from 'redis';
import { isValetError, ValetError } from '../../util/valet-error.ts';

// What the Redis store's callers see when Redis fails. Messages name the server by host:port
// and the cause by a code (ECONNREFUSED, OOM): never the URL (it may hold a password), never a
// key or a value, and never the text of a Redis reply, which for a script can quote arguments.

/** Where a Redis URL points, checked: `host:port` for messages, and the URL to connect to. */
export interface RedisEndpoint {
  url: string;
  hostPort: string;
}

const FIX_URL =
  'give --redis (VALET_REDIS_URL) as redis://host:6379 or, for TLS, rediss://host:6380, with the password as redis://:password@host:6379 if Redis needs one';

/** Checks a `redis://` or `rediss://` URL, throwing `store-bad-input` that never quotes it. */
export function redisEndpoint(url: unknown): RedisEndpoint {
  const parsed = typeof url === 'string' && URL.canParse(url) ? new URL(url) : undefined;
  if (
    typeof url !== 'string' ||
    !parsed ||
    !['redis:', 'rediss:'].includes(parsed.protocol) ||
    parsed.hostname === ''
  )
    throw new ValetError(
      'store-bad-input',
      `The Redis URL is not a redis:// or rediss:// URL with a host: ${FIX_URL}.`,
    );
  if (!/^(\/\d{0,2})?$/.test(parsed.pathname) || parsed.search !== '' || parsed.hash !== '')
    throw new ValetError(
      'store-bad-input',
      `The Redis URL (${parsed.hostname}) may end with a database number such as /0 and nothing else: ${FIX_URL}.`,
    );
  return { url, hostPort: `${parsed.hostname}:${parsed.port || '6379'}` };
}

/** A short, value-free name of why a Redis call or connection failed. */
export function failureReason(err: unknown): string {
  if (err instanceof ReconnectStrategyError) return failureReason(err.socketError);
  if (err instanceof MultiErrorReply) return failureReason([...err.errors()][0]);
  if (err instanceof ErrorReply) return `Redis answered ${replyCode(err)}`;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code)) return code;
  for (const [type, reason] of CLIENT_REASONS) if (err instanceof type) return reason;
  // node-redis refuses a command past commandsQueueMaxLength with a plain Error.
  if (err instanceof Error && err.message === 'The queue is full') return 'too many calls waiting';
  return err instanceof Error ? err.constructor.name : 'an unknown error';
}

const CLIENT_REASONS: ReadonlyArray<readonly [new (...args: never[]) => Error, string]> = [
  [ClientOfflineError, 'not connected'],
  [SocketClosedUnexpectedlyError, 'connection closed'],
  [DisconnectsClientError, 'connection closed'],
  [ConnectionTimeoutError, 'connect timed out'],
  [SocketTimeoutError, 'connection timed out'],
];

/** The error of a call the store could not complete because Redis is away, slow or refusing. */
export function unavailableError(hostPort: string, reason: string): ValetError {
  return new ValetError(
    'store-unavailable',
    `The shared store (Redis at ${hostPort}) cannot be reached (${reason}): check that Redis is running and reachable from this instance; the store reconnects by itself once it answers.`,
  );
}

/** The error of a store that could not connect at all when it was opened. */
export function connectError(hostPort: string, reason: string): ValetError {
  return new ValetError(
    'store-unavailable',
    `Cannot connect to the shared store (Redis at ${hostPort}): ${reason}. Check that Redis is running there and that --redis (VALET_REDIS_URL) names it, as rediss:// if it takes TLS and with its password if it needs one.`,
  );
}

/** The error of a call on a key that holds another type than the operation works on. */
export function wrongTypeError(): ValetError {
  return new ValetError(
    'store-wrong-type',
    'A store key holds another type of record than this operation works on: give each kind of record its own key name.',
  );
}

/** Any failure of a Redis call, as the ValetError the SharedStore contract names. */
export function storeError(err: unknown, hostPort: string): ValetError {
  if (isValetError(err)) return err;
  const replies = err instanceof MultiErrorReply ? [...err.errors()] : [err];
  if (replies.some((reply) => reply instanceof ErrorReply && replyCode(reply) === 'WRONGTYPE'))
    return wrongTypeError();
  return unavailableError(hostPort, failureReason(err));
}

/** Whether Redis answered that it does not hold the script asked for (EVALSHA). */
export function isNoScript(err: unknown): boolean {
  return err instanceof ErrorReply && replyCode(err) === 'NOSCRIPT';
}

function replyCode(reply: ErrorReply): string {
  return /^[A-Z][A-Z0-9_]*/.exec(reply.message)?.[0] ?? 'an error';
}
