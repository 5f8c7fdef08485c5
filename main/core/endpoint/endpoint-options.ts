import type { KeyRejection, KeyStore, ValetKey } from '../keys/key-store.ts';
import type { RateLimiter } from '../ratelimit/rate-limiter.ts';
import type { Logger } from '../util/logger.ts';
import type { ControlHandlers } from './control-api.ts';
import type { ServerFactory } from './mcp-session.ts';
import type { Rejection } from './request-guards.ts';

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
  /**
   * Builds the MCP server for a new session. Each request it serves carries its whole caller
   * in `authInfo.extra` (see callerAuthInfo), so the server needs nothing else.
   */
  createServer: ServerFactory;
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
