import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { ValetKey } from '../keys/key-store.ts';
import { callerAuthInfo } from '../mcp/server-factory.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import { describeError } from '../util/valet-error.ts';
import { handleControl } from './control-api.ts';
import type { EndpointOptions } from './endpoint-options.ts';
import { closeServer, listenOnLoopback } from './loopback-server.ts';
import { sessionCaller, type Session } from './mcp-session.ts';
import { keyRefused, refuse, refuseOverLimit, REFUSED, type Refused } from './refusals.ts';
import { bodyOf, hostRefusal, methodRefusal, originRefusal, pathOf } from './request-checks.ts';
import { allowedHosts, bearerOf, sendJsonRpcError } from './request-guards.ts';
import { enterSession, watchExchange, type Exchange } from './session-exchange.ts';
import { SessionRegistry } from './session-registry.ts';

export type { EndpointEvents, EndpointOptions } from './endpoint-options.ts';

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

  /**
   * A request on its way to MCP: each check in turn, the first that fails answers it (see
   * request-checks and refusals), and what passes is handed to its session's transport.
   */
  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const unsafe =
      hostRefusal(req, this.#hosts) ?? originRefusal(req, this.#options.allowedOrigins);
    if (unsafe) return this.#refuse(req, res, unsafe);
    const path = pathOf(req);
    const { control } = this.#options;
    if (path.startsWith('/control/') && control)
      return handleControl(req, res, path, control.token, control.handlers);
    if (path !== '/mcp') return this.#refuse(req, res, REFUSED.path);
    const key = await this.#keyOf(req, res);
    if (!key) return;
    const wrongMethod = methodRefusal(req);
    if (wrongMethod) return this.#refuse(req, res, wrongMethod, key.id);
    const exchange = watchExchange(res);
    if (!this.#admitted(req, res, key, exchange)) return;
    const read = await bodyOf(req, this.#options.maxBodyBytes);
    if ('refused' in read) return this.#refuse(req, res, read.refused, key.id);
    const session = await this.#sessionOf(req, key, read.body);
    if ('refused' in session) return this.#refuse(req, res, session.refused, key.id);
    // The client hung up while its request was read or its key checked: nothing to serve.
    if (exchange.closed) return;
    const entered = enterSession(req, res, session, read.body, exchange);
    if ('refused' in entered) return this.#refuse(req, res, entered.refused, key.id);
    // The key, not the session, authorizes this request; tools read their caller from here.
    const caller = sessionCaller(session, key);
    (req as IncomingMessage & { auth?: AuthInfo }).auth = callerAuthInfo(caller, entered.closed);
    await session.transport.handleRequest(req, res, read.body);
    this.#options.keys.touch(key.id, (err) =>
      this.#logger.warn(`could not record key use: ${describeError(err)}`),
    );
  }

  #refuse(req: IncomingMessage, res: ServerResponse, refused: Refused, keyId?: string): void {
    refuse(this.#options, req, res, refused, keyId);
  }

  /**
   * The valet key of the request, or undefined once it is refused; a revoked key's sessions
   * end at once (their streams may sit silent).
   */
  async #keyOf(req: IncomingMessage, res: ServerResponse): Promise<ValetKey | undefined> {
    const verdict = await this.#options.keys.verify(bearerOf(req));
    if (!('rejected' in verdict)) return verdict.key;
    this.#refuse(req, res, keyRefused(verdict.rejected), verdict.keyId);
    if (verdict.keyId) await this.closeSessionsOf(verdict.keyId);
    return undefined;
  }

  /**
   * Takes a POST's place within its key's rate limits, given back when the exchange ends;
   * false once a request over a limit is refused.
   */
  #admitted(req: IncomingMessage, res: ServerResponse, key: ValetKey, exchange: Exchange): boolean {
    const { limiter } = this.#options;
    if (req.method !== 'POST' || !limiter) return true;
    const admission = limiter.acquire(key.id);
    if (!admission.ok) {
      refuseOverLimit(this.#options, res, key, admission);
      return false;
    }
    exchange.onClose = admission.release;
    return true;
  }

  /** The session a request names, or a new one for an initialize; or why there is none. */
  async #sessionOf(
    req: IncomingMessage,
    key: ValetKey,
    body: unknown,
  ): Promise<Session | { refused: Refused }> {
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = this.#sessions.get(sessionId);
      if (session?.keyId !== key.id)
        return { refused: session ? REFUSED.foreignSession : REFUSED.unknownSession };
      session.lastSeen = Date.now();
      return session;
    }
    if (req.method === 'POST' && isInitializeRequest(body)) return await this.#sessions.open(key);
    return { refused: REFUSED.noSession };
  }
}
