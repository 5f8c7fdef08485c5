import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A backend the proxy may send requests to. */
export interface ProxyUpstream {
  name: string;
  port: number;
}

/** One request as the proxy passed it on: to whom, and what came back (0: no answer). */
export interface ProxiedRequest {
  instance: string;
  method: string;
  path: string;
  status: number;
}

/** Chooses the backend of a request by its method and path; undefined leaves it to the rotation. */
export type PinRule = (request: { method: string; path: string }) => string | undefined;

/** A strict per-request round-robin load balancer on 127.0.0.1, for tests. */
export interface RoundRobinProxy {
  readonly port: number;
  /** Every request passed on, oldest first. */
  readonly log: ProxiedRequest[];
  /** Sends the requests `rule` names to that backend, whatever the rotation says; none when undefined. */
  pin(rule: PinRule | undefined): void;
  /** Takes a backend out of the rotation (as a load balancer's failed health check does) or back in. */
  setUp(name: string, up: boolean): void;
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free 127.0.0.1 port in front of `upstreams`: each request goes to the next
 * backend that is up, over a new connection of its own (no keep-alive, so no connection reuse can
 * hide which instance answered), with its Host header and body as the client sent them, and the
 * answer streamed back as it comes (SSE included). A backend that cannot be reached gets the
 * client a 502; a client that hangs up closes the backend's connection.
 */
export async function startRoundRobinProxy(
  upstreams: readonly ProxyUpstream[],
): Promise<RoundRobinProxy> {
  const up = new Set(upstreams.map((u) => u.name));
  const log: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let pinned: PinRule | undefined;
  let next = 0;

  const choose = (method: string, path: string): ProxyUpstream | undefined => {
    const named = pinned?.({ method, path });
    if (named !== undefined) return upstreams.find((u) => u.name === named);
    for (let i = 0; i < upstreams.length; i++) {
      const candidate = upstreams[next++ % upstreams.length] as ProxyUpstream;
      if (up.has(candidate.name)) return candidate;
    }
    return undefined;
  };

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const target = choose(method, path);
    const entry: ProxiedRequest = { instance: target?.name ?? 'none', method, path, status: 0 };
    log.push(entry);
    if (!target) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('No backend is up');
      return;
    }
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: target.port,
        method,
        path: url,
        headers: { ...req.headers, connection: 'close' },
        agent: false,
      },
      (answer) => {
        entry.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        res.flushHeaders();
        answer.pipe(res);
        // A backend that dies mid-answer ends the client's answer the same way.
        answer.once('error', () => res.destroy());
        answer.once('aborted', () => res.destroy());
      },
    );
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) return void res.destroy();
      res
        .writeHead(502, { 'content-type': 'text/plain' })
        .end(
          `Bad gateway: instance ${target.name} (127.0.0.1:${target.port}) ${err.code ?? err.message}`,
        );
    });
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };

  const server = createServer(forward);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    log,
    pin: (rule) => {
      pinned = rule;
    },
    setUp: (name, isUp) => {
      if (isUp) up.add(name);
      else up.delete(name);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
