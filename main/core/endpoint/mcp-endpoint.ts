import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { ValetKey } from '../keys/key-store.ts';
import { handleControl } from './control-api.ts';
import type { EndpointOptions } from './endpoint-options.ts';
import type { Post } from './in-flight-requests.ts';
import { closeServer, listenOnLoopback } from './loopback-server.ts';
import type { Session } from './mcp-session.ts';
import { duplicateId, keyRefused, refuse, refuseOverLimit, REFUSED, tooLarge } from './refusals.ts';
import { allowedHosts, bearerOf, readJsonBody, sendJsonRpcError } from './request-guards.ts';
import { SessionRegistry } from './session-registry.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import { describeError } from '../util/valet-error.ts';

export type { EndpointEvents, EndpointOptions } from './endpoint-options.ts';

/** The `closed` signal of requests that carry no call (GET streams, DELETE): never aborted. */
const NEVER_CLOSED = new AbortController().signal;

/**
 * What the end of an HTTP exchange must undo: the admission at first, then (once the request
 * reaches MCP) the session's bookkeeping.
 */
interface Exchange {
  closed: boolean;
  onClose?: () => void;
}

/**
 * The local MCP endpoint: Streamable HTTP at http://127.0.0.1:<port>/mcp, loopback only.
 * Every request passes the Host allow-list, the Origin check and a valet key check before
 * MCP sees it; sessions are bound to the key that opened them and the key is re-checked on
 * every request, so a revoked key stops working at once.
 */
export class McpEndpoint {
  readonly #options: EndpointOptions;
  readonly #sessions: SessionRegistry;
  readonly #logger: Logger;
  #server: Server | undefined;
  #hosts = new Set<string>();
  #url = '';

  constructor(options: EndpointOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#sessions = new SessionRegistry({
      keys: options.keys,
      createServer: options.createServer,
      maxSessionsPerKey: options.maxSessionsPerKey,
      logger: this.#logger,
      events: options,
    });
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
    const server = await listenOnLoopback(
      this.#options.port,
      this.#options.requestTimeoutMs,
      (req, res) => {
        this.#handle(req, res).catch((err: unknown) => {
          this.#logger.error(`endpoint request failed: ${describeError(err)}`);
          sendJsonRpcError(res, 500, 'Internal error in MCP Valet', -32603);
        });
      },
    );
    const port = (server.address() as AddressInfo).port;
    this.#server = server;
    this.#hosts = allowedHosts(port);
    this.#url = `http://127.0.0.1:${port}/mcp`;
    this.#sessions.sweepEvery(this.#options.idleTimeoutMs);
    return this.#url;
  }

  /** Closes every session and stops listening. */
  async close(): Promise<void> {
    await this.#sessions.closeAll();
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await closeServer(server);
  }

  /** Closes every session a key opened (after it is revoked). */
  async closeSessionsOf(keyId: string): Promise<void> {
    await this.#sessions.closeSessionsOf(keyId);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? '';
    if (!this.#hosts.has(host)) return refuse(this.#options, req, res, REFUSED.host);
    // A page's Origin is refused unless allowed, or the endpoint's own (the Host just checked).
    const origin = req.headers.origin;
    if (
      origin !== undefined &&
      origin !== `http://${host}` &&
      !(this.#options.allowedOrigins ?? []).includes(origin)
    )
      return refuse(this.#options, req, res, REFUSED.origin);
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path.startsWith('/control/') && this.#options.control) {
      const { token, handlers } = this.#options.control;
      await handleControl(req, res, path, token, handlers);
      return;
    }
    if (path !== '/mcp') return refuse(this.#options, req, res, REFUSED.path);
    const verdict = await this.#options.keys.verify(bearerOf(req));
    if ('rejected' in verdict) {
      refuse(this.#options, req, res, keyRefused(verdict.rejected), verdict.keyId);
      if (verdict.keyId) await this.closeSessionsOf(verdict.keyId);
      return;
    }
    const key = verdict.key;
    if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE')
      return refuse(this.#options, req, res, REFUSED.method, key.id);
    const exchange: Exchange = { closed: false };
    res.once('close', () => {
      exchange.closed = true;
      exchange.onClose?.();
    });
    if (req.method === 'POST' && this.#options.limiter) {
      const admission = this.#options.limiter.acquire(key.id);
      if (!admission.ok) return refuseOverLimit(this.#options, res, key, admission);
      exchange.onClose = admission.release;
    }
    let body: unknown;
    if (req.method === 'POST') {
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
        return refuse(this.#options, req, res, REFUSED.mediaType, key.id);
      const limit = this.#options.maxBodyBytes ?? 1024 * 1024;
      const read = await readJsonBody(req, limit);
      if (!read.ok)
        return refuse(
          this.#options,
          req,
          res,
          read.reason === 'too-large' ? tooLarge(limit) : REFUSED.parse,
          key.id,
        );
      body = read.value;
    }
    const session = await this.#sessionOf(req, res, key, body);
    // The client hung up while its request was read or its key checked: nothing to serve.
    if (!session || exchange.closed) return;
    await this.#serve(req, res, key, session, body, exchange);
  }

  /** The session a request names, or a new one for an initialize; undefined once refused. */
  async #sessionOf(
    req: IncomingMessage,
    res: ServerResponse,
    key: ValetKey,
    body: unknown,
  ): Promise<Session | undefined> {
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = this.#sessions.get(sessionId);
      if (session?.keyId === key.id) {
        session.lastSeen = Date.now();
        return session;
      }
      const refused = session ? REFUSED.foreignSession : REFUSED.unknownSession;
      refuse(this.#options, req, res, refused, key.id);
      return undefined;
    }
    if (req.method === 'POST' && isInitializeRequest(body)) return await this.#sessions.open(key);
    refuse(this.#options, req, res, REFUSED.noSession, key.id);
    return undefined;
  }

  /** Hands an admitted request to its session's transport, with the key as its authority. */
  async #serve(
    req: IncomingMessage,
    res: ServerResponse,
    key: ValetKey,
    session: Session,
    body: unknown,
    exchange: Exchange,
  ): Promise<void> {
    let closed = NEVER_CLOSED;
    let post: Post | undefined;
    const release = exchange.onClose;
    if (req.method === 'POST') {
      const begun = session.inFlight.begin(body, release ?? (() => undefined));
      if ('duplicate' in begun)
        return refuse(this.#options, req, res, duplicateId(begun.duplicate, begun.inBatch), key.id);
      post = begun;
    }
    // A client that hangs up before its answer aborts `closed`, so the MCP layer can stop the
    // call (and a pending approval); the admission stays held until the call has ended.
    const controller = post ? new AbortController() : undefined;
    if (controller) closed = controller.signal;
    session.open++;
    exchange.onClose = () => {
      session.open--;
      session.lastSeen = Date.now();
      if (!post) return release?.();
      if (!res.writableFinished) controller?.abort();
      session.inFlight.closed(post);
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
}
