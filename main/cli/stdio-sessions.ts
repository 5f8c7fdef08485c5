import {
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { ValetError } from '../core/util/valet-error.ts';
import type { StdioBridgeOptions } from './stdio-bridge.ts';
import { explain, lostSession, worthRetrying } from './stdio-errors.ts';
import type { InitializeReplay } from './stdio-replay.ts';
import { createUpstream, type Upstream } from './stdio-upstream.ts';

/** How long a lost session is tried again by default: an endpoint restarting is back by then. */
const RECONNECT_GRACE_MS = 5000;

/** What the sessions hand on to the relay between them and the client. */
export interface RelayHooks {
  /** A message from the endpoint, except answers to the bridge's own replayed initializes. */
  fromEndpoint(message: JSONRPCMessage): void;
  /** The stream that was to carry request `id`'s answer from `upstream` ended. */
  lost(upstream: Upstream, id: RequestId): void;
  /** Whether a client request still waits on `upstream` for its answer. */
  waitedOn(upstream: Upstream): boolean;
}

/**
 * The bridge's sessions with the endpoint: the current one, and a new one when it is lost,
 * opened by replaying the client's own `initialize` so the client never sees the change.
 * Each endpoint is found (and, when local, proven) anew before it is given the key.
 */
export class UpstreamSessions {
  readonly #options: StdioBridgeOptions;
  readonly #relay: RelayHooks;
  /** The client's initialize, replayed to open each session after the first. */
  readonly #replay: InitializeReplay;
  #current: Upstream | undefined;
  #connecting: Promise<Upstream> | undefined;
  #everConnected = false;
  #closed = false;
  /** Every session's transport not yet closed: all are closed when the client hangs up. */
  readonly #connections = new Set<Upstream>();

  constructor(options: StdioBridgeOptions, replay: InitializeReplay, relay: RelayHooks) {
    this.#options = options;
    this.#replay = replay;
    this.#relay = relay;
  }

  /** The client hung up: no session is opened any more. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The client hung up: ends the session and lets go of every connection, so the process can exit. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#endSession();
    await Promise.all(
      [...this.#connections].map((u) => u.transport.close().catch(() => undefined)),
    );
    this.#connections.clear();
  }

  /** Ends the current session at the endpoint, if it is still sound. */
  async #endSession(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    if (!current) return;
    if (!current.broken) await current.transport.terminateSession().catch(() => undefined);
    this.retire(current);
  }

  /**
   * Whether the endpoint of a session is still the one that proved itself. Without an event
   * stream (a client that never said initialized) nothing tells the bridge that the endpoint
   * went away and another program took its port, so it is proven again before each message.
   */
  async stillThere(upstream: Upstream): Promise<boolean> {
    if (upstream.broken) return false;
    if (upstream.streaming || upstream.sent === 0) return true;
    const url = await this.#options.endpoint().catch(() => undefined);
    if (url !== upstream.url) upstream.broken = true;
    return !upstream.broken;
  }

  /** A new session for the client's own initialize: the client starts over. */
  async fresh(): Promise<Upstream> {
    await this.#endSession();
    const upstream = await this.#connect();
    this.#current = upstream;
    this.#everConnected = true;
    return upstream;
  }

  /** The current session, or a new one opened with the client's initialize replayed. */
  session(): Promise<Upstream> {
    if (this.#current && !this.#current.broken) return Promise.resolve(this.#current);
    this.#connecting ??= this.#reconnect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #reconnect(): Promise<Upstream> {
    const initialize = this.#replay.initialize;
    if (!initialize)
      throw new ValetError(
        'no_session',
        'The client has not initialized a session with MCP Valet: restart the client',
      );
    // An endpoint that is restarting comes back within moments; one that was never reached
    // is reported at once.
    const deadline =
      Date.now() +
      (this.#everConnected ? (this.#options.reconnectGraceMs ?? RECONNECT_GRACE_MS) : 0);
    for (let attempt = 0; ; attempt++) {
      let upstream: Upstream | undefined;
      try {
        upstream = await this.#connect();
        await this.#replay.replay(upstream, initialize);
        this.#current = upstream;
        this.#options.log(`opened a new session with MCP Valet at ${upstream.url}`);
        return upstream;
      } catch (err) {
        if (upstream) this.retire(upstream);
        if (!worthRetrying(err) || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 500)));
      }
    }
  }

  /** Finds (and, when local, proves) the endpoint and starts a transport that adds the key. */
  async #connect(): Promise<Upstream> {
    const url = await this.#options.endpoint();
    const upstream = createUpstream(url, this.#options.key, {
      message: (message) => this.#fromEndpoint(message),
      ended: (ended, ids) => this.#ended(ended, ids),
    });
    await upstream.transport.start();
    if (this.#closed) {
      await upstream.transport.close();
      throw new ValetError('session_lost', 'the client hung up');
    }
    this.#connections.add(upstream);
    return upstream;
  }

  #fromEndpoint(message: JSONRPCMessage): void {
    const id =
      isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message) ? message.id : undefined;
    if (id === undefined || !this.#replay.answered(id, message)) this.#relay.fromEndpoint(message);
  }

  #ended(upstream: Upstream, ids: RequestId[]): void {
    for (const id of ids) {
      this.#replay.lost(id);
      this.#relay.lost(upstream, id);
    }
    if (upstream.broken) this.retire(upstream);
  }

  /** Sends a notification or an answer to the current session, if there is one. */
  async sendToCurrent(message: JSONRPCMessage): Promise<void> {
    const upstream =
      this.#current && !this.#current.broken
        ? this.#current
        : await this.#connecting?.catch(() => undefined);
    // With no session, there is nothing to notify: a new session starts from the replay.
    if (!upstream || !(await this.stillThere(upstream))) return;
    await upstream.transport.send(message).catch((err: unknown) => {
      if (!lostSession(err)) this.#options.log(`could not forward a notification: ${explain(err)}`);
    });
  }

  /** Stops using a session: the transport is closed (its streams end) once nothing waits on it. */
  retire(upstream: Upstream): void {
    upstream.broken = true;
    if (this.#current === upstream) this.#current = undefined;
    if (this.#relay.waitedOn(upstream) || !this.#connections.delete(upstream)) return;
    void upstream.transport.close().catch(() => undefined);
  }
}
