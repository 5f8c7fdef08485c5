import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ValetError } from '../util/valet-error.ts';

/** See EndpointOptions.requestTimeoutMs. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Starts an HTTP server on 127.0.0.1:`port` (0 picks a free one) that gives each client
 * `requestTimeoutMs` to send a whole request, headers and body, and answers 408 after that.
 * A port already in use is reported with the fix.
 */
export async function listenOnLoopback(
  port: number,
  requestTimeoutMs: number | undefined,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  const requestTimeout = requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server = createServer(
    {
      requestTimeout,
      headersTimeout: requestTimeout,
      // Node checks for late requests on this beat (30 s by default): keep it finer than the limit.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, requestTimeout / 4)),
    },
    handle,
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
              `Port ${port} on 127.0.0.1 is in use, perhaps by another MCP Valet: stop it, or set VALET_PORT to another port (0 picks a free one)`,
            )
          : err,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

/** Stops listening and drops every connection, idle or not, so closing never waits on a client. */
export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
