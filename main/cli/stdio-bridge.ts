import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { describeError } from '../core/util/valet-error.ts';
import { explain, lostSession, notDelivered } from './stdio-errors.ts';
import { ResendPolicy } from './stdio-resend.ts';
import { InitializeReplay } from './stdio-replay.ts';
import { UpstreamSessions } from './stdio-sessions.ts';
import type { Upstream } from './stdio-upstream.ts';

/** Where the bridge forwards to, and with which key. */
export interface StdioBridgeOptions {
  /**
   * Finds the endpoint anew for each session and returns its URL once it may have the key
   * (a local endpoint has proved itself); throws a ValetError naming the fix otherwise.
   */
  endpoint: () => Promise<string>;
  key: string;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  log: (line: string) => void;
  /** How long a lost session is tried again (an endpoint restarting) before calls fail. */
  reconnectGraceMs?: number;
}

/** A client request sent on (or waiting for) a session, until its answer goes back. */
interface InFlight {
  message: JSONRPCRequest;
  upstream?: Upstream;
  attempts: number;
}

const MAX_ATTEMPTS = 3;

/**
 * Forwards MCP messages between a stdio client (such as Claude Desktop) and MCP Valet's
 * endpoint, adding the valet key to every HTTP request. When the endpoint restarts, the
 * bridge opens a new session by replaying the client's own `initialize`, and sends again
 * what the old session left unanswered, so the client never sees the session change. stdout
 * carries only protocol messages; anything for people goes to `log` (stderr). Resolves when
 * the client hangs up.
 */
export async function runStdioBridge(options: StdioBridgeOptions): Promise<void> {
  const stdin = options.stdin ?? process.stdin;
  const downstream = new StdioServerTransport(stdin as never, options.stdout as never);
  const bridge = new Bridge(options, downstream);
  const closed = new Promise<void>((resolve) => {
    downstream.onclose = () => resolve();
  });
  // The stdio transport does not notice the client hanging up: its stdin ending is the sign.
  stdin.once('end', () => void downstream.close());
  downstream.onmessage = (message) => bridge.fromClient(message);
  downstream.onerror = (err) => options.log(`bad message from the client: ${describeError(err)}`);
  await downstream.start();
  await closed;
  await bridge.close();
}

/**
 * The relay: each client request goes to a session and its answer back, exactly once; a
 * request whose session ended unanswered is sent again when that is safe, else failed.
 */
class Bridge {
  readonly #options: StdioBridgeOptions;
  readonly #downstream: StdioServerTransport;
  readonly #replay = new InitializeReplay();
  readonly #upstreams: UpstreamSessions;
  readonly #inFlight = new Map<RequestId, InFlight>();
  readonly #resend = new ResendPolicy();

  constructor(options: StdioBridgeOptions, downstream: StdioServerTransport) {
    this.#options = options;
    this.#downstream = downstream;
    this.#upstreams = new UpstreamSessions(options, this.#replay, {
      fromEndpoint: (message) => this.#fromEndpoint(message),
      lost: (upstream, id) => this.#lost(upstream, id),
      waitedOn: (upstream) => [...this.#inFlight.values()].some((e) => e.upstream === upstream),
    });
  }

  fromClient(message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message)) {
      if (message.method === 'initialize') this.#replay.initializing(message);
      this.#inFlight.set(message.id, { message, attempts: 0 });
      void this.#dispatch(message.id);
      return;
    }
    if (isJSONRPCNotification(message)) {
      if (message.method === 'notifications/initialized') this.#replay.initialized();
      if (message.method === 'notifications/cancelled') {
        const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        // The endpoint answers nothing to a cancelled request: never send it again.
        if (id !== undefined) this.#inFlight.delete(id);
      }
    }
    // Notifications and answers to the endpoint's own requests belong to the current session.
    void this.#upstreams.sendToCurrent(message);
  }

  /** The client hung up: ends the session and lets go of every connection, so the process can exit. */
  async close(): Promise<void> {
    await this.#upstreams.close();
  }

  async #dispatch(id: RequestId): Promise<void> {
    const entry = this.#inFlight.get(id);
    if (!entry || this.#upstreams.closed) return;
    entry.attempts += 1;
    let upstream: Upstream;
    try {
      upstream =
        entry.message.method === 'initialize'
          ? await this.#upstreams.fresh()
          : await this.#upstreams.session();
    } catch (err) {
      this.#fail(id, explain(err));
      return;
    }
    const sound = await this.#upstreams.stillThere(upstream);
    if (this.#inFlight.get(id) !== entry) return;
    if (!sound) {
      this.#again(id, entry, true);
      this.#upstreams.retire(upstream);
      return;
    }
    entry.upstream = upstream;
    upstream.sent += 1;
    try {
      await upstream.transport.send(entry.message);
    } catch (err) {
      if (this.#inFlight.get(id) !== entry) return;
      if (!lostSession(err)) {
        this.#fail(id, explain(err));
        return;
      }
      // Refused at connect or unknown to the endpoint: it did not run, so it is safe to send
      // again; a connection lost on the way may have run it.
      this.#again(id, entry, notDelivered(err));
      this.#upstreams.retire(upstream);
    }
  }

  /** A request whose session ended before its answer came: send it again, or say why not. */
  #again(id: RequestId, entry: InFlight, undelivered: boolean): void {
    delete entry.upstream;
    if (this.#upstreams.closed) return;
    if (entry.attempts < MAX_ATTEMPTS && (undelivered || this.#resend.safeTwice(entry.message))) {
      void this.#dispatch(id);
      return;
    }
    const what =
      entry.message.method === 'tools/call'
        ? String((entry.message.params as { name?: unknown } | undefined)?.name ?? 'the tool')
        : entry.message.method;
    this.#fail(
      id,
      undelivered
        ? `MCP Valet's sessions kept ending before ${what} could be sent: try again in a moment`
        : `MCP Valet stopped while ${what} was in flight: it may or may not have run, so it was not sent again; check \`mcp-valet audit\` before trying again`,
    );
  }

  #lost(upstream: Upstream, id: RequestId): void {
    const entry = this.#inFlight.get(id);
    if (!entry || entry.upstream !== upstream) return;
    // A stream that ends without the answer: the endpoint closed the session.
    upstream.broken = true;
    this.#again(id, entry, false);
  }

  #fromEndpoint(message: JSONRPCMessage): void {
    const id =
      isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message) ? message.id : undefined;
    if (id !== undefined) {
      const entry = this.#inFlight.get(id);
      // Already answered (or cancelled): a second answer would confuse the client.
      if (!entry) return;
      this.#inFlight.delete(id);
      if (entry.message.method === 'initialize' && 'result' in message) {
        const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
        if (typeof version === 'string') entry.upstream?.transport.setProtocolVersion(version);
      }
      if (entry.message.method === 'tools/list' && 'result' in message)
        this.#resend.learnTools(message.result);
    }
    this.#toClient(message);
  }

  #fail(id: RequestId, text: string): void {
    this.#inFlight.delete(id);
    this.#options.log(text);
    this.#toClient({ jsonrpc: '2.0', id, error: { code: -32000, message: text } });
  }

  #toClient(message: JSONRPCMessage): void {
    void this.#downstream
      .send(message)
      .catch((err: unknown) =>
        this.#options.log(`could not write to the client: ${describeError(err)}`),
      );
  }
}
