import { request, type ClientRequest } from 'node:http';

/** A response read whole, as a client that controls every header sees it. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * What a raw request sends; Host, Accept and Content-Type default to what an MCP client sends,
 * and a POST's body to an initialize request.
 */
export interface RawRequestOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** The MCP initialize request a raw client opens a session with. */
export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'raw', version: '1' },
  },
};

/**
 * Starts a raw HTTP request to the endpoint at `url` (fetch would not let a test set Host).
 * `headers` resolves once the status line arrives; `response` once the body has ended.
 */
export function startRequest(
  url: string,
  options: RawRequestOptions = {},
): {
  request: ClientRequest;
  headers: Promise<{ status: number; headers: RawResponse['headers'] }>;
  response: Promise<RawResponse>;
} {
  const target = new URL(url);
  let onHeaders: (value: { status: number; headers: RawResponse['headers'] }) => void = () => {};
  const headers = new Promise<{ status: number; headers: RawResponse['headers'] }>(
    (resolve) => (onHeaders = resolve),
  );
  let req!: ClientRequest;
  const response = new Promise<RawResponse>((resolve, reject) => {
    req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: options.method ?? 'POST',
        path: options.path ?? '/mcp',
        headers: {
          host: target.host,
          accept: 'application/json, text/event-stream',
          'content-type': 'application/json',
          ...options.headers,
        },
      },
      (res) => {
        onHeaders({ status: res.statusCode ?? 0, headers: res.headers });
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
  // A test that hangs up on purpose does not care how the request ended.
  response.catch(() => undefined);
  req.end(
    options.body ??
      ((options.method ?? 'POST') === 'POST' ? JSON.stringify(INITIALIZE) : undefined),
  );
  return { request: req, headers, response };
}

/** One raw request, read whole. */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  return startRequest(url, options).response;
}

/** The JSON-RPC messages of a response, whether it came as JSON or as an SSE stream. */
export function messagesOf(res: RawResponse): Array<Record<string, unknown>> {
  if (!res.body) return [];
  if (String(res.headers['content-type']).startsWith('text/event-stream'))
    return res.body
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
  const parsed = JSON.parse(res.body) as unknown;
  return (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
}

/** Opens an MCP session with a raw client (initialize, then initialized): its id. */
export async function openRawSession(url: string, secret: string): Promise<string> {
  const auth = { authorization: `Bearer ${secret}` };
  const init = await rawRequest(url, { headers: auth });
  if (init.status !== 200) throw new Error(`initialize failed: ${init.status} ${init.body}`);
  const sessionId = String(init.headers['mcp-session-id']);
  const done = await rawRequest(url, {
    headers: { ...auth, 'mcp-session-id': sessionId },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  if (done.status !== 202) throw new Error(`initialized failed: ${done.status} ${done.body}`);
  return sessionId;
}

/** A tools/call request body. */
export function toolCall(id: number | string, name: string, args: Record<string, unknown> = {}) {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: args },
  });
}

/**
 * Resolves once `check` holds, polling every 10 ms (running `refresh` before each look, when
 * given); rejects after `ms` naming `what`.
 */
export async function waitFor(
  check: () => boolean,
  what: string,
  ms = 5_000,
  refresh?: () => Promise<unknown>,
): Promise<void> {
  const until = Date.now() + ms;
  await refresh?.();
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
    await refresh?.();
  }
}
