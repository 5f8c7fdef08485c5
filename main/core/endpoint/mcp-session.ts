import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { ValetKey } from '../keys/key-store.ts';
import type { Caller } from '../mcp/call-types.ts';
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

/** Builds the MCP server for a new session; each request tells it its caller (callerAuthInfo). */
export type ServerFactory = () => McpServer;

/** What a session tells whoever keeps it. */
export interface SessionHooks {
  /** The client's initialize gave the session its id: from now on requests may name it. */
  initialized(id: string, session: Session): Promise<void>;
  /** The session's transport closed (the client's DELETE, or the server closing it). */
  closed(id: string): void;
}

/**
 * Opens an MCP session for `key`, ready for its initialize: a Streamable HTTP transport and a
 * server, watched so that the session knows which of its requests are still being served.
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
  const server = createServer();
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

/**
 * Who calls in `session`: the request's key, the client as it named itself when it
 * initialized the session, and the session's id.
 */
export function sessionCaller(session: Session, key: ValetKey): Caller {
  const client = session.server.server.getClientVersion();
  const id = session.transport.sessionId;
  const caller: Caller = { key };
  if (client) caller.client = { name: client.name, version: client.version };
  if (id) caller.sessionId = id;
  return caller;
}
