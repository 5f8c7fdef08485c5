// The benchmark's load balancer on loopback: kept-alive connections to the instances (its own
// cost stays small beside theirs), and a choice of instances per bearer token, so that one
// public URL can reach one instance, another, or several in turn. A request whose instance
// refuses the connection (it was killed) goes to the next one, as haproxy's redispatch does.
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

const upstreams = new Agent({ keepAlive: true });

/** A running proxy. */
export interface BenchProxy {
  /** Requests carrying `Bearer <token>` go to these instance ports, in turn. */
  route(token: string, ports: number[]): void;
  /** Where every other request goes (sign-in, OAuth, metadata). */
  setDefault(port: number): void;
  close(): Promise<void>;
}

/** Starts the proxy on 127.0.0.1:`port`. */
export async function startBenchProxy(port: number): Promise<BenchProxy> {
  const routes = new Map<string, { ports: number[]; next: number }>();
  let fallback = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const route = routes.get(req.headers.authorization ?? '');
      const ports = route ? rotate(route) : [fallback];
      forward(req, Buffer.concat(chunks), res, ports);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    route: (token, ports) => routes.set(`Bearer ${token}`, { ports, next: 0 }),
    setDefault: (p) => (fallback = p),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The route's ports starting at its next one, which moves on. */
function rotate(route: { ports: number[]; next: number }): number[] {
  const start = route.next;
  route.next = (route.next + 1) % route.ports.length;
  return [...route.ports.slice(start), ...route.ports.slice(0, start)];
}

function forward(req: IncomingMessage, body: Buffer, res: ServerResponse, ports: number[]): void {
  const [port, ...rest] = ports;
  if (port === undefined) {
    res.writeHead(503).end();
    return;
  }
  const upstream = request(
    {
      host: '127.0.0.1',
      port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent: upstreams,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    },
  );
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    // Refused: the instance is gone, nothing was sent. Reset on a kept-alive connection to a
    // killed instance: it may have been, so only a request that can be repeated goes on.
    const again =
      err.code === 'ECONNREFUSED' || (err.code === 'ECONNRESET' && req.method === 'GET');
    if (again && !res.headersSent) forward(req, body, res, rest);
    else res.destroy();
  });
  // A client that hung up ends its upstream exchange; a finished one leaves the connection kept.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  upstream.end(body);
}
