import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { KeyRejection, KeyStore, ValetKey } from '../keys/key-store.ts';
import type { CallerResolver } from '../mcp/server-factory.ts';
import type { RateLimiter, Refusal } from '../ratelimit/rate-limiter.ts';
import { handleControl, type ControlHandlers } from './control-api.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import { describeError, ValetError } from '../util/valet-error.ts';
import {
  allowedHosts,
  bearerOf,
  describeRequestId,
  InFlightRequests,
  readJsonBody,
  type Post,
  sendJsonRpcError,
  type Rejection,
} from './request-guards.ts';

/** One MCP session: its transport and server, bound to the key that opened it. */
interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  keyId: string;
  /** When its last HTTP exchange began or ended. */
  lastSeen: number;
  /** HTTP exchanges of the session still open (calls, event streams): it is in use. */
  open: number;
  inFlight: InFlightRequests;
}

/** A client keeps its session while it works; an abandoned one goes after this long. */
const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;
/** See EndpointOptions.requestTimeoutMs. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Enough for every window of a client sharing one key; each session costs some 17 KB. */
const DEFAULT_MAX_SESSIONS_PER_KEY = 32;

/** How much of a refused request's Origin its event carries (enough to tell sources apart). */
const MAX_ORIGIN_CHARS = 200;

/** The `closed` signal of requests that carry no call (GET streams, DELETE): never aborted. */
const NEVER_CLOSED = new AbortController().signal;

/** What the endpoint tells its owner (audit log, UI). */
export interface EndpointEvents {
  onRejected?(event: {
    reason: Rejection | KeyRejection;
    status: number;
    keyId?: string;
    /** The request's Origin header, if it sent one: who is refused, for aggregating floods. */
    origin?: string;
    detail?: string;
  }): void;
  onSessionOpened?(event: {
    sessionId: string;
    key: ValetKey;
    client: { name: string; version: string } | undefined;
  }): void;
  onSessionClosed?(event: { sessionId: string; keyId: string }): void;
  onRateLimited?(event: { key: ValetKey; reason: string; retryAfterSeconds: number }): void;
}

/** Settings for the local endpoint. */
export interface EndpointOptions extends EndpointEvents {
  port: number;
  keys: KeyStore;
  /** Builds the MCP server for a new session; the resolver gives its tools the caller. */
  createServer: (resolveCaller: CallerResolver) => McpServer;
  /**
   * Origins allowed to call besides the endpoint's own (`http://` + the request's Host);
   * empty by default, which refuses every web page.
   */
  allowedOrigins?: string[];
  maxBodyBytes?: number;
  /** Sessions with nothing open and unused this long are closed; 10 minutes by default. */
  idleTimeoutMs?: number;
  /** Sessions one key may hold; opening one more closes its least recently used. 32 by default. */
  maxSessionsPerKey?: number;
  /**
   * Time a client has to send a whole request, headers and body, before the connection is
   * closed (408): a client that stalls mid-body holds nothing for long. 30 s by default. It
   * does not limit answers, which may wait minutes for an approval.
   */
  requestTimeoutMs?: number;
  logger?: Logger;
  /** Per-key and total limits on MCP requests. */
  limiter?: RateLimiter;
  /** The control API for MCP Valet's own CLI: its per-run token and handlers. */
  control?: { token: string; handlers: ControlHandlers };
}

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

/**
 * The local MCP endpoint: Streamable HTTP at http://127.0.0.1:<port>/mcp, loopback only.
 * Every request passes the Host allow-list, the Origin check and a valet key check before
 * MCP sees it; sessions are bound to the key that opened them and the key is re-checked on
 * every request, so a revoked key stops working at once.
 */
export class McpEndpoint {
  readonly #options: EndpointOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #logger: Logger;
  #server: Server | undefined;
  #hosts = new Set<string>();
  #sweeper: NodeJS.Timeout | undefined;
  #url = '';

  constructor(options: EndpointOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** http://127.0.0.1:<port>/mcp once started. */
  get url(): string {
    return this.#url;
  }

  /** Open sessions, for status and leak checks. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  async start(): Promise<string> {
    const requestTimeout = this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const server = createServer(
      {
        requestTimeout,
        headersTimeout: requestTimeout,
        // Node checks for late requests on this beat (30 s by default): keep it finer than the limit.
        connectionsCheckingInterval: Math.max(50, Math.min(1_000, requestTimeout / 4)),
      },
      (req, res) => {
        this.#handle(req, res).catch((err: unknown) => {
          this.#logger.error(`endpoint request failed: ${describeError(err)}`);
          sendJsonRpcError(res, 500, 'Internal error in MCP Valet', -32603);
        });
      },
    );
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // A request that did not arrive in time is told so; anything else malformed is dropped.
      if (err.code !== 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) return socket.destroy();
      const body = JSON.stringify({
        jsonrpc: '2.0',
        error: {
          code: -32000,
          message: `Request timeout: send the whole request within ${requestTimeout / 1000} s`,
        },
        id: null,
      });
      socket.end(
        `HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new ValetError(
                'port_in_use',
                `Port ${this.#options.port} on 127.0.0.1 is in use, perhaps by another MCP Valet: stop it, or set VALET_PORT to another port (0 picks a free one)`,
              )
            : err,
        ),
      );
      server.listen(this.#options.port, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.#server = server;
    this.#hosts = allowedHosts(port);
    this.#url = `http://127.0.0.1:${port}/mcp`;
    const idle = this.#options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#sweeper = setInterval(() => void this.#sweep(idle), Math.min(idle, 60_000)).unref();
    return this.#url;
  }

  /** Closes every session and stops listening. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.keys()].map((id) => this.#closeSession(id)));
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Closes every session a key opened (after it is revoked). */
  async closeSessionsOf(keyId: string): Promise<void> {
    await Promise.all(
      [...this.#sessions]
        .filter(([, s]) => s.keyId === keyId)
        .map(([id]) => this.#closeSession(id)),
    );
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    const reject = (
      reason: Rejection | KeyRejection,
      status: number,
      message: string,
      headers: Record<string, string> = {},
      keyId?: string,
      code = -32000,
    ) => {
      this.#options.onRejected?.({
        reason,
        status,
        ...(keyId ? { keyId } : {}),
        ...(origin !== undefined ? { origin: origin.slice(0, MAX_ORIGIN_CHARS) } : {}),
      });
      sendJsonRpcError(res, status, message, code, headers);
    };
    const host = req.headers.host ?? '';
    if (!this.#hosts.has(host)) {
      reject('host', 403, 'Forbidden: this endpoint only answers to 127.0.0.1, localhost or [::1]');
      return;
    }
    // A page's Origin is refused unless allowed, or the endpoint's own (the Host just checked).
    if (
      origin !== undefined &&
      origin !== `http://${host}` &&
      !(this.#options.allowedOrigins ?? []).includes(origin)
    ) {
      reject('origin', 403, 'Forbidden: requests from web pages are not allowed');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path.startsWith('/control/') && this.#options.control) {
      await handleControl(
        req,
        res,
        path,
        this.#options.control.token,
        this.#options.control.handlers,
      );
      return;
    }
    if (path !== '/mcp') {
      reject('path', 404, 'Not found: the MCP endpoint is /mcp');
      return;
    }
    const verdict = await this.#options.keys.verify(bearerOf(req));
    if ('rejected' in verdict) {
      const challenge =
        verdict.rejected === 'missing'
          ? 'Bearer realm="mcp-valet"'
          : `Bearer realm="mcp-valet", error="invalid_token", error_description="${verdict.rejected} valet key"`;
      reject(
        verdict.rejected,
        401,
        KEY_MESSAGES[verdict.rejected],
        { 'www-authenticate': challenge },
        verdict.keyId,
      );
      if (verdict.keyId) await this.closeSessionsOf(verdict.keyId);
      return;
    }
    const key = verdict.key;
    if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE') {
      reject(
        'method',
        405,
        'Method not allowed: use POST, GET or DELETE',
        { allow: 'POST, GET, DELETE' },
        key.id,
      );
      return;
    }
    // What the end of this HTTP exchange must undo: the admission at first, then (once the
    // request reaches MCP) the session's bookkeeping.
    const exchange: { closed: boolean; onClose?: () => void } = { closed: false };
    res.once('close', () => {
      exchange.closed = true;
      exchange.onClose?.();
    });
    if (req.method === 'POST' && this.#options.limiter) {
      const admission = this.#options.limiter.acquire(key.id);
      if (!admission.ok) {
        this.#refuseOverLimit(res, key, admission);
        return;
      }
      exchange.onClose = admission.release;
    }
    let body: unknown;
    if (req.method === 'POST') {
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        reject('media-type', 415, 'Unsupported media type: send application/json', {}, key.id);
        return;
      }
      const read = await readJsonBody(req, this.#options.maxBodyBytes ?? 1024 * 1024);
      if (!read.ok) {
        if (read.reason === 'too-large')
          reject(
            'body-size',
            413,
            `Request body too large: the limit is ${this.#options.maxBodyBytes ?? 1024 * 1024} bytes`,
            { connection: 'close' },
            key.id,
          );
        else reject('parse', 400, 'Parse error: the body is not valid JSON', {}, key.id, -32700);
        return;
      }
      body = read.value;
    }
    const sessionId = req.headers['mcp-session-id'];
    let session: Session | undefined;
    if (typeof sessionId === 'string') {
      session = this.#sessions.get(sessionId);
      if (!session) {
        reject(
          'session',
          404,
          'Session not found: it ended or never existed; initialize a new one',
          {},
          key.id,
        );
        return;
      }
      if (session.keyId !== key.id) {
        reject(
          'session',
          403,
          'Forbidden: this session was opened with another valet key',
          {},
          key.id,
        );
        return;
      }
      session.lastSeen = Date.now();
    } else if (req.method === 'POST' && isInitializeRequest(body)) {
      session = await this.#openSession(key);
    } else {
      reject(
        'session',
        400,
        'Bad request: send initialize first, or the Mcp-Session-Id of an open session',
        {},
        key.id,
      );
      return;
    }
    // The client hung up while its request was read or its key checked: nothing to serve.
    if (exchange.closed) return;
    let closed = NEVER_CLOSED;
    let post: Post | undefined;
    const release = exchange.onClose;
    if (req.method === 'POST') {
      const begun = session.inFlight.begin(body, release ?? (() => undefined));
      if ('duplicate' in begun) {
        const id = describeRequestId(begun.duplicate);
        reject(
          'duplicate-id',
          400,
          begun.inBatch
            ? `Invalid request: request id ${id} appears twice in this batch; give each request its own id`
            : `Invalid request: request id ${id} is already in flight in this session; give each request its own id`,
          {},
          key.id,
          -32600,
        );
        return;
      }
      post = begun;
    }
    // A client that hangs up before its answer aborts `closed`, so the MCP layer can stop the
    // call (and a pending approval); the admission stays held until the call has ended.
    const controller = post ? new AbortController() : undefined;
    if (controller) closed = controller.signal;
    const current = session;
    current.open++;
    exchange.onClose = () => {
      current.open--;
      current.lastSeen = Date.now();
      if (!post) return release?.();
      if (!res.writableFinished) controller?.abort();
      current.inFlight.closed(post);
    };
    // The key, not the session, authorizes this request; tools read it from here.
    (req as IncomingMessage & { auth?: unknown }).auth = {
      token: key.id,
      clientId: key.id,
      scopes: key.tools,
      extra: { key, closed },
    };
    await session.transport.handleRequest(req, res, body);
    this.#options.keys.touch(key.id, (err) =>
      this.#logger.warn(`could not record key use: ${describeError(err)}`),
    );
  }

  #refuseOverLimit(res: ServerResponse, key: ValetKey, refusal: Refusal): void {
    this.#options.onRateLimited?.({
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

  async #openSession(key: ValetKey): Promise<Session> {
    // The transport announces the session id before the session object below exists.
    const holder: { session?: Session } = {};
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: async (id) => {
        const session = holder.session;
        if (!session) return;
        await this.#makeRoomFor(key);
        this.#sessions.set(id, session);
        this.#options.onSessionOpened?.({
          sessionId: id,
          key,
          client: session.server.server.getClientVersion(),
        });
      },
    });
    const server = this.#options.createServer((authInfo, sessionId) => {
      const current = authInfo?.extra?.key as ValetKey | undefined;
      if (!current) return undefined;
      const client = server.server.getClientVersion();
      return {
        key: current,
        ...(client ? { client: { name: client.name, version: client.version } } : {}),
        ...(sessionId ? { sessionId } : {}),
      };
    });
    const inFlight = new InFlightRequests();
    const session: Session = {
      transport,
      server,
      keyId: key.id,
      lastSeen: Date.now(),
      open: 0,
      inFlight,
    };
    holder.session = session;
    transport.onclose = () => {
      inFlight.clear();
      const id = transport.sessionId;
      if (id && this.#sessions.delete(id))
        this.#options.onSessionClosed?.({ sessionId: id, keyId: key.id });
    };
    await server.connect(transport);
    // Watch requests in and answers out, to know which calls are still being served.
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      inFlight.delivered(message as { id?: unknown; method?: unknown; params?: unknown });
      deliver?.(message, extra);
    };
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      if ('id' in message && !('method' in message) && message.id !== undefined)
        inFlight.answered(message.id);
      return send(message, options);
    };
    return session;
  }

  /**
   * Keeps a key within its session cap by closing its least recently used session, preferring
   * one with nothing open. A client that lost its session simply initializes again, whereas
   * refusing the new one would lock out the key's own client behind sessions it abandoned.
   */
  async #makeRoomFor(key: ValetKey): Promise<void> {
    const max = this.#options.maxSessionsPerKey ?? DEFAULT_MAX_SESSIONS_PER_KEY;
    const mine = [...this.#sessions].filter(([, s]) => s.keyId === key.id);
    if (mine.length < max) return;
    mine.sort(([, a], [, b]) => Number(a.open > 0) - Number(b.open > 0) || a.lastSeen - b.lastSeen);
    this.#logger.info(
      `valet key '${key.name}' reached its ${max} sessions: closing its least recently used`,
    );
    await Promise.all(mine.slice(0, mine.length - max + 1).map(([id]) => this.#closeSession(id)));
  }

  async #closeSession(id: string): Promise<void> {
    const session = this.#sessions.get(id);
    if (!session) return;
    this.#sessions.delete(id);
    this.#options.onSessionClosed?.({ sessionId: id, keyId: session.keyId });
    await session.server.close().catch(() => undefined);
  }

  /**
   * Closes idle sessions (nothing open, unused for the idle timeout), and those of keys
   * revoked since (their streams may sit silent).
   */
  async #sweep(idleMs: number): Promise<void> {
    const cutoff = Date.now() - idleMs;
    for (const [id, s] of this.#sessions) {
      const key = await this.#options.keys.get(s.keyId).catch(() => undefined);
      if ((s.open === 0 && s.lastSeen < cutoff) || !key || key.revokedAt)
        await this.#closeSession(id);
    }
  }
}
