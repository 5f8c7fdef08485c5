import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenVerifier } from './auth.ts';
import { errorBody, GraphError } from './errors.ts';
import { FaultBook } from './faults.ts';
import { delay, parseJsonBody, preferences, readBody, writeReply } from './http.ts';
import type { Reply } from './http.ts';
import { ODataQuery } from './odata.ts';
import { resolveEndpoint } from './routes.ts';
import { requireScope } from './scopes.ts';
import { GraphStore } from './store.ts';
import type { GraphStandInOptions, RecordedRequest, RunningGraph } from './types.ts';

/** The audience of Graph access tokens issued by Entra for v2 scopes. */
const GRAPH_AUDIENCE = 'https://graph.microsoft.com';
const VERSION = '/v1.0';
/** Records kept; a long-running demo must not grow without bound (POST bodies can be 4 MB). */
const MAX_RECORDS = 5000;

function decodedPath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

/** A client's correlation ID is echoed only if it is a sane token, so it cannot bloat or garble headers. */
function clientRequestIdOf(req: IncomingMessage): string | undefined {
  const value = req.headers['client-request-id'];
  return typeof value === 'string' && /^[\w.:-]{1,128}$/.test(value) ? value : undefined;
}

/** Starts a Microsoft Graph stand-in on 127.0.0.1 serving the tools' endpoints for `options.users`. */
export async function startGraphStandIn(options: GraphStandInOptions): Promise<RunningGraph> {
  const now = options.now ?? (() => new Date());
  const store = new GraphStore(options.users, now());
  const verify = createTokenVerifier(
    { issuer: options.issuer, audience: options.audience ?? GRAPH_AUDIENCE, keys: options.keys },
    (oid) => store.userIdFor(oid),
  );
  const faults = new FaultBook();
  const requests: RecordedRequest[] = [];
  const closing = new AbortController();
  let origin = '';

  async function answer(req: IncomingMessage, url: URL, record: RecordedRequest): Promise<Reply> {
    const fault = faults.take(record.method, record.path);
    if (fault) {
      if (fault.latencyMs > 0) await delay(fault.latencyMs, closing.signal);
      if (fault.error) throw fault.error;
    }
    const principal = await verify(req.headers.authorization);
    record.userId = principal.userId;
    record.scopes = principal.scopes;
    const below = url.pathname.startsWith(`${VERSION}/`)
      ? url.pathname.slice(VERSION.length)
      : undefined;
    if (below === undefined) {
      throw new GraphError(404, 'UnknownError', `Resource not found: '${record.path}'.`);
    }
    const { endpoint, params } = resolveEndpoint(record.method, below);
    requireScope(principal.scopes, endpoint.scope);
    const query = new ODataQuery(url, endpoint.options);
    let body: unknown;
    if (endpoint.body) {
      body = parseJsonBody(req, await readBody(req));
      record.body = body;
    }
    const data = store.byId(principal.userId);
    if (!data) throw new Error(`No data for user ${principal.userId}.`);
    return endpoint.handle({
      userId: principal.userId,
      data,
      store,
      query,
      root: `${origin}${VERSION}`,
      params,
      body,
      now,
      prefer: preferences(req.headers.prefer),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const clientRequestId = clientRequestIdOf(req) ?? requestId;
    // Links this server writes (nextLink, context) must name this server, whatever the request line says.
    const url = new URL(`${origin}${req.url?.startsWith('/') ? req.url : '/'}`);
    const record: RecordedRequest = {
      at: Date.now(),
      method: (req.method ?? 'GET').toUpperCase(),
      path: decodedPath(url.pathname),
      query: Object.fromEntries(url.searchParams),
      scopes: [],
      status: 0,
      requestId,
    };
    let reply: Reply;
    try {
      reply = await answer(req, url, record);
    } catch (error) {
      // A client that hung up mid-request is not a stand-in failure worth reporting.
      if (!(error instanceof GraphError) && !req.destroyed) {
        console.error(`Graph stand-in: ${record.method} ${record.path} failed:`, error);
      }
      const failure =
        error instanceof GraphError
          ? error
          : new GraphError(500, 'generalException', 'General exception while processing.');
      reply = {
        status: failure.status,
        headers: failure.headers,
        body: errorBody(failure, { requestId, clientRequestId }),
      };
    }
    record.status = reply.status;
    requests.push(record);
    if (requests.length > MAX_RECORDS) requests.splice(0, requests.length - MAX_RECORDS);
    if (res.destroyed) return;
    writeReply(res, reply, { 'request-id': requestId, 'client-request-id': clientRequestId });
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${origin}${VERSION}`,
    requests,
    inject: (fault) => faults.inject(fault),
    clearFaults: () => faults.clear(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
