import { randomUUID } from 'node:crypto';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
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
import { describeError, isValetError, ValetError } from '../core/util/valet-error.ts';
import { refused } from './control-client.ts';

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

/** One session with the endpoint. */
interface Upstream {
  transport: StreamableHTTPClientTransport;
  url: string;
  /** The session or the endpoint is gone: nothing more is sent through it, the key least of all. */
  broken: boolean;
  /** The session's event stream is open: if the endpoint goes away, its end says so at once. */
  streaming: boolean;
  /** Requests sent through it so far. */
  sent: number;
}

/** A client request sent on (or waiting for) a session, until its answer goes back. */
interface InFlight {
  message: JSONRPCRequest;
  upstream?: Upstream;
  attempts: number;
}

const MAX_ATTEMPTS = 3;
/** How long a lost session is tried again by default: an endpoint restarting is back by then. */
const RECONNECT_GRACE_MS = 5000;
/** An endpoint that takes a session's initialize but never answers it is treated as gone. */
const REPLAY_TIMEOUT_MS = 10_000;

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

class Bridge {
  readonly #options: StdioBridgeOptions;
  readonly #downstream: StdioServerTransport;
  /** The client's initialize and whether it said initialized: replayed for each new session. */
  #initialize: JSONRPCRequest | undefined;
  #initialized = false;
  #current: Upstream | undefined;
  #connecting: Promise<Upstream> | undefined;
  #everConnected = false;
  #closed = false;
  /** Every session's transport not yet closed: all are closed when the client hangs up. */
  readonly #connections = new Set<Upstream>();
  readonly #inFlight = new Map<RequestId, InFlight>();
  /** The bridge's own requests (replayed initializes), answered to it and not to the client. */
  readonly #own = new Map<
    RequestId,
    { resolve: (m: JSONRPCMessage) => void; reject: () => void }
  >();
  /** Tools the endpoint marks read-only: a call of one of these is safe to send twice. */
  readonly #readOnlyTools = new Set<string>();

  constructor(options: StdioBridgeOptions, downstream: StdioServerTransport) {
    this.#options = options;
    this.#downstream = downstream;
  }

  fromClient(message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message)) {
      if (message.method === 'initialize') {
        this.#initialize = message;
        this.#initialized = false;
      }
      this.#inFlight.set(message.id, { message, attempts: 0 });
      void this.#dispatch(message.id);
      return;
    }
    if (isJSONRPCNotification(message)) {
      if (message.method === 'notifications/initialized') this.#initialized = true;
      if (message.method === 'notifications/cancelled') {
        const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        // The endpoint answers nothing to a cancelled request: never send it again.
        if (id !== undefined) this.#inFlight.delete(id);
      }
    }
    // Notifications and answers to the endpoint's own requests belong to the current session.
    void this.#sendCurrent(message);
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
    this.#retire(current);
  }

  async #dispatch(id: RequestId): Promise<void> {
    const entry = this.#inFlight.get(id);
    if (!entry || this.#closed) return;
    entry.attempts += 1;
    let upstream: Upstream;
    try {
      upstream =
        entry.message.method === 'initialize' ? await this.#fresh() : await this.#session();
    } catch (err) {
      this.#fail(id, explain(err));
      return;
    }
    const sound = await this.#stillThere(upstream);
    if (this.#inFlight.get(id) !== entry) return;
    if (!sound) {
      this.#again(id, entry, true);
      this.#retire(upstream);
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
      this.#retire(upstream);
    }
  }

  /**
   * Whether the endpoint of a session is still the one that proved itself. Without an event
   * stream (a client that never said initialized) nothing tells the bridge that the endpoint
   * went away and another program took its port, so it is proven again before each message.
   */
  async #stillThere(upstream: Upstream): Promise<boolean> {
    if (upstream.broken) return false;
    if (upstream.streaming || upstream.sent === 0) return true;
    const url = await this.#options.endpoint().catch(() => undefined);
    if (url !== upstream.url) upstream.broken = true;
    return !upstream.broken;
  }

  /** A request whose session ended before its answer came: send it again, or say why not. */
  #again(id: RequestId, entry: InFlight, undelivered: boolean): void {
    delete entry.upstream;
    if (this.#closed) return;
    if (entry.attempts < MAX_ATTEMPTS && (undelivered || this.#safeTwice(entry.message))) {
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

  #safeTwice(message: JSONRPCRequest): boolean {
    if (message.method !== 'tools/call') return true;
    const name = (message.params as { name?: unknown } | undefined)?.name;
    return typeof name === 'string' && this.#readOnlyTools.has(name);
  }

  /** A new session for the client's own initialize: the client starts over. */
  async #fresh(): Promise<Upstream> {
    await this.#endSession();
    const upstream = await this.#connect();
    this.#current = upstream;
    this.#everConnected = true;
    return upstream;
  }

  /** The current session, or a new one opened with the client's initialize replayed. */
  #session(): Promise<Upstream> {
    if (this.#current && !this.#current.broken) return Promise.resolve(this.#current);
    this.#connecting ??= this.#reconnect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #reconnect(): Promise<Upstream> {
    const initialize = this.#initialize;
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
        await this.#replay(upstream, initialize);
        this.#current = upstream;
        this.#options.log(`opened a new session with MCP Valet at ${upstream.url}`);
        return upstream;
      } catch (err) {
        if (upstream) this.#retire(upstream);
        if (!worthRetrying(err) || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 500)));
      }
    }
  }

  async #replay(upstream: Upstream, initialize: JSONRPCRequest): Promise<void> {
    const id = `mcp-valet-stdio-${randomUUID()}`;
    const answer = new Promise<JSONRPCMessage>((resolve, reject) =>
      this.#own.set(id, {
        resolve,
        reject: () => reject(new ValetError('session_lost', 'the endpoint went away')),
      }),
    );
    // Awaited below unless the send fails first.
    answer.catch(() => undefined);
    const timer = setTimeout(() => this.#own.get(id)?.reject(), REPLAY_TIMEOUT_MS);
    try {
      await upstream.transport.send({ ...initialize, id });
      const result = await answer;
      if ('error' in result)
        throw new ValetError(
          'session_refused',
          `MCP Valet refused a new session: ${String((result.error as { message?: unknown }).message)}`,
        );
      const version = (result as { result?: { protocolVersion?: unknown } }).result
        ?.protocolVersion;
      if (typeof version === 'string') upstream.transport.setProtocolVersion(version);
      if (this.#initialized)
        await upstream.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    } finally {
      clearTimeout(timer);
      this.#own.delete(id);
    }
  }

  /** Finds (and, when local, proves) the endpoint and starts a transport that adds the key. */
  async #connect(): Promise<Upstream> {
    const url = await this.#options.endpoint();
    const origin = new URL(url).origin;
    const upstream = { url, broken: false, streaming: false, sent: 0 } as Upstream;
    const key = this.#options.key;
    const keyed = async (input: string | URL, init?: RequestInit): Promise<Response> => {
      // The key goes only to the origin that was just found (and proven), while it is sound.
      if (upstream.broken || new URL(input).origin !== origin)
        throw new ValetError('session_lost', `not sending the valet key to ${String(input)}`);
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${key}`);
      const response = await fetch(input, { ...init, headers }).catch((err: unknown) => {
        upstream.broken = true;
        throw err;
      });
      if (response.status === 404 && headers.has('mcp-session-id')) upstream.broken = true;
      return this.#watch(upstream, response, init);
    };
    upstream.transport = new StreamableHTTPClientTransport(new URL(url), {
      fetch: keyed,
      // The bridge opens new sessions itself; the transport must not try the old one again.
      reconnectionOptions: {
        maxRetries: 0,
        initialReconnectionDelay: 0,
        maxReconnectionDelay: 0,
        reconnectionDelayGrowFactor: 1,
      },
    });
    upstream.transport.onmessage = (message) => this.#fromEndpoint(message);
    // Every failure reaches the bridge through send() or the end of a stream, handled there.
    upstream.transport.onerror = () => undefined;
    await upstream.transport.start();
    if (this.#closed) {
      await upstream.transport.close();
      throw new ValetError('session_lost', 'the client hung up');
    }
    this.#connections.add(upstream);
    return upstream;
  }

  /**
   * Watches a response stream: when the session's event stream (GET) ends, the session is
   * gone; when a POST's stream ends, any request of it still unanswered was lost with it.
   */
  #watch(upstream: Upstream, response: Response, init: RequestInit | undefined): Response {
    if (!response.ok || !response.body) return response;
    const ids = requestIds(init);
    const events = init?.method === 'GET';
    if (events) upstream.streaming = true;
    const ended = () => {
      if (events) {
        upstream.streaming = false;
        upstream.broken = true;
      }
      // Let the transport hand on what it read before the end.
      setImmediate(() => this.#ended(upstream, ids));
    };
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            ended();
          } else controller.enqueue(value);
        } catch (err) {
          controller.error(err);
          ended();
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  #ended(upstream: Upstream, ids: RequestId[]): void {
    for (const id of ids) {
      this.#own.get(id)?.reject();
      const entry = this.#inFlight.get(id);
      if (!entry || entry.upstream !== upstream) continue;
      // A stream that ends without the answer: the endpoint closed the session.
      upstream.broken = true;
      this.#again(id, entry, false);
    }
    if (upstream.broken) this.#retire(upstream);
  }

  #fromEndpoint(message: JSONRPCMessage): void {
    const id =
      isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message) ? message.id : undefined;
    if (id !== undefined) {
      const own = this.#own.get(id);
      if (own) {
        own.resolve(message);
        return;
      }
      const entry = this.#inFlight.get(id);
      // Already answered (or cancelled): a second answer would confuse the client.
      if (!entry) return;
      this.#inFlight.delete(id);
      if (entry.message.method === 'initialize' && 'result' in message) {
        const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
        if (typeof version === 'string') entry.upstream?.transport.setProtocolVersion(version);
      }
      if (entry.message.method === 'tools/list' && 'result' in message)
        this.#learnTools(message.result);
    }
    this.#toClient(message);
  }

  #learnTools(result: unknown): void {
    const tools = (result as { tools?: unknown }).tools;
    if (!Array.isArray(tools)) return;
    for (const tool of tools as Array<{ name?: unknown; annotations?: { readOnlyHint?: unknown } }>)
      if (typeof tool.name === 'string')
        if (tool.annotations?.readOnlyHint === true) this.#readOnlyTools.add(tool.name);
        else this.#readOnlyTools.delete(tool.name);
  }

  async #sendCurrent(message: JSONRPCMessage): Promise<void> {
    const upstream =
      this.#current && !this.#current.broken
        ? this.#current
        : await this.#connecting?.catch(() => undefined);
    // With no session, there is nothing to notify: a new session starts from the replay.
    if (!upstream || !(await this.#stillThere(upstream))) return;
    await upstream.transport.send(message).catch((err: unknown) => {
      if (!lostSession(err)) this.#options.log(`could not forward a notification: ${explain(err)}`);
    });
  }

  /** Stops using a session: the transport is closed (its streams end) once nothing waits on it. */
  #retire(upstream: Upstream): void {
    upstream.broken = true;
    if (this.#current === upstream) this.#current = undefined;
    const waiting = [...this.#inFlight.values()].some((e) => e.upstream === upstream);
    if (waiting || !this.#connections.delete(upstream)) return;
    void upstream.transport.close().catch(() => undefined);
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

/** The ids of the requests in a POST body. */
function requestIds(init: RequestInit | undefined): RequestId[] {
  if (init?.method !== 'POST' || typeof init.body !== 'string') return [];
  try {
    const parsed = JSON.parse(init.body) as unknown;
    return (Array.isArray(parsed) ? parsed : [parsed])
      .filter((m): m is JSONRPCRequest => isJSONRPCRequest(m))
      .map((m) => m.id);
  } catch {
    return [];
  }
}

/** The session is gone (unknown to the endpoint) or the endpoint cannot be reached. */
function lostSession(err: unknown): boolean {
  if (err instanceof StreamableHTTPError) return err.code === 404;
  if (isValetError(err)) return err.code === 'session_lost';
  return err instanceof TypeError || (err as { name?: unknown }).name === 'AbortError';
}

/** The request surely did not reach a session: refused at connect, or session unknown. */
function notDelivered(err: unknown): boolean {
  if (err instanceof StreamableHTTPError) return err.code === 404;
  if (isValetError(err)) return err.code === 'session_lost';
  return refused(err);
}

/** Failures an endpoint in the middle of a restart gives; a refused key is not one of them. */
function worthRetrying(err: unknown): boolean {
  if (isValetError(err))
    return ['not_running', 'endpoint_unproven', 'session_lost'].includes(err.code);
  return lostSession(err);
}

function explain(err: unknown): string {
  if (isValetError(err)) return err.message;
  if (err instanceof StreamableHTTPError) {
    const status = err.code;
    // The endpoint answers with a JSON-RPC error whose message names the fix.
    const inner = /"message":"((?:[^"\\]|\\.)*)"/.exec(err.message)?.[1]?.replace(/\\"/g, '"');
    if (status === 401)
      return `MCP Valet refused the valet key in VALET_KEY: ${inner ?? 'unauthorized'}`;
    return `MCP Valet answered HTTP ${status}: ${inner ?? err.message}`;
  }
  if (refused(err)) return 'MCP Valet is not running: start the app or `mcp-valet serve`';
  return `Cannot reach MCP Valet: ${describeError(err)}`;
}
