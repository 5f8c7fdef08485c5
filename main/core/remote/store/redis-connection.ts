import type { createClient } from 'redis';
import type { Logger } from '../../util/logger.ts';
import type { ValetError } from '../../util/valet-error.ts';
import { failureReason } from './redis-errors.ts';

/** A node-redis client as the store uses it (RESP3, no modules). */
export type RedisClient = ReturnType<typeof createClient>;

/** The socket options the store sets on each of its connections. */
export interface WatchedSocketOptions {
  connectTimeout: number;
  reconnectStrategy: (retries: number, cause: Error) => number | Error;
}

/** How one of the store's connections is made, named in logs and reconnected. */
export interface ConnectionSettings {
  /** What the connection is, for logs: "The shared store", "The shared store's subscriber". */
  what: string;
  hostPort: string;
  logger: Logger;
  /** How long one attempt to connect may take. */
  connectTimeoutMs: number;
  /** How long the first connection may go on retrying before it gives up (default: as long as one attempt). */
  retryFirstForMs?: number;
  /** The error to reject with, given why the first connection failed (a code, no value). */
  failure: (reason: string) => ValetError;
}

/** The longest wait between two reconnection attempts once a connection that was up went away. */
export const RECONNECT_CAP_MS = 2000;

/**
 * Makes a client with `make`, connects it and resolves once it is ready; rejects with
 * the error `failure` makes of the reason when it cannot connect within `retryFirstForMs`. Once
 * ready, the client reconnects on its own for as long as it is open, with a backoff that doubles
 * from 50 ms up to RECONNECT_CAP_MS; an outage is logged once when it starts and once when it
 * ends, never per attempt, and no error event goes unhandled.
 */
export async function connectWatched(
  make: (socket: WatchedSocketOptions) => RedisClient,
  {
    what,
    hostPort,
    logger,
    connectTimeoutMs,
    retryFirstForMs = connectTimeoutMs,
    failure,
  }: ConnectionSettings,
): Promise<RedisClient> {
  const started = Date.now();
  let everReady = false;
  let down = false;
  const reconnectStrategy = (retries: number, cause: Error): number | Error => {
    if (everReady)
      // The jitter keeps instances that lost Redis together from coming back in lockstep.
      return Math.min(RECONNECT_CAP_MS, 50 * 2 ** retries) + Math.floor(Math.random() * 50);
    const left = retryFirstForMs - (Date.now() - started);
    return left <= 0 ? cause : Math.min(left, 50 * 2 ** retries);
  };
  const client = make({ connectTimeout: connectTimeoutMs, reconnectStrategy });
  client.on('error', (err: unknown) => {
    const reason = failureReason(err);
    if (everReady && !down) {
      down = true;
      logger.warn(
        `${what} (Redis at ${hostPort}) went away (${reason}); reconnecting, and calls fail with store-unavailable until it is back.`,
      );
    } else logger.debug(`${what} (Redis at ${hostPort}): ${reason}.`);
  });
  client.on('ready', () => {
    if (down) logger.info(`${what} (Redis at ${hostPort}) is back.`);
    everReady = true;
    down = false;
  });
  try {
    await client.connect();
    return client;
  } catch (err) {
    client.destroy();
    throw failure(failureReason(err));
  }
}

/** Closes a client, waiting up to `waitMs` for the replies it still expects, then drops it. */
export async function closeClient(client: RedisClient, waitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.close(),
      new Promise((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
  } catch {
    // Already closed or never connected: destroying it below is all that is left to do.
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}
