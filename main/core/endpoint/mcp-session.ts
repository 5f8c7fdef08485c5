import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { ValetKey } from '../keys/key-store.ts';
import type { CallerResolver } from '../mcp/server-factory.ts';
import { InFlightRequests } from './in-flight-requests.ts';

/** One MCP session: its transport and server, bound to the key that opened it. */
export interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  keyId: string;
  /** When its last HTTP exchange began or ended. */
  lastSeen: number;
  /** HTTP exchanges of the session still open (calls, event streams): it is in use. */
  open: number;
  inFlight: InFlightRequests;
}

/** Builds the MCP server for a new session; the resolver gives its tools the caller. */
export type ServerFactory = (resolveCaller: CallerResolver) => McpServer;

/** What a session tells whoever keeps it. */
export interface SessionHooks {
  /** The client's initialize gave the session its id: from now on requests may name it. */
  initialized(id: string, session: Session): Promise<void>;
  /** The session's transport closed (the client's DELETE, or the server closing it). */
  closed(id: string): void;
}

/**
 * Opens an MCP session for `key`, ready for its initialize: a Streamable HTTP transport and a
 * server whose tools learn their caller from each request's auth, watched so that the
 * session knows which of its requests are still being served.
 */
export async function openSession(
  key: ValetKey,
  createServer: ServerFactory,
  hooks: SessionHooks,
): Promise<Session> {
  // The transport announces the session id before the session object below exists.
  const holder: { session?: Session } = {};
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: async (id) => {
      const session = holder.session;
      if (!session) return;
      await hooks.initialized(id, session);
    },
  });
  const server = createServer((authInfo, sessionId) => {
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
    if (id) hooks.closed(id);
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
