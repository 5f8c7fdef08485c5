import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppApi } from '../../../preload/contract.ts';
import { dispatchCall } from '../app/dispatch-call.ts';
import { allowedHosts, bearerOf, readJsonBody } from '../endpoint/request-guards.ts';
import { ValetError } from '../util/valet-error.ts';
import { readWindowFile } from './static-files.ts';
import { UiCredentials, type LinkRefusal } from './ui-credentials.ts';

/** HTTP status of a failed call, by its error code; other refusals by the core are 409. */
const HTTP_STATUS: Record<string, number> = {
  unknown_call: 404,
  invalid_request: 400,
  unexpected: 500,
};

/** A running web bridge. */
export interface WebBridge {
  /** The first link to the window (one-use, expiring): the URL the CLI prints and opens. */
  url: string;
  /** Where the window is, without any secret. */
  origin: string;
  /** A new one-use link, as `mcp-valet ui` gets through the control route. */
  newLink(): { url: string; expiresAt: Date };
  close(): Promise<void>;
}

/** How to start the web bridge. */
export interface WebBridgeOptions {
  port?: number;
  /** The built window (dist/renderer by default). */
  dir?: string;
  /** The run's control token (endpoint.json): it alone may ask for a new link. */
  controlToken?: string;
  /** How long a link works (10 minutes by default). */
  linkTtlMs?: number;
}

/**
 * The built renderer: dist/renderer, found from the compiled core (dist/main/core/web) or from
 * the sources (main/core/web). The source renderer/ has an index.html too, but no assets/.
 */
export function rendererDir(): string {
  const candidates = ['../../../renderer', '../../../dist/renderer'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const found = candidates.find(
    (dir) => existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'assets')),
  );
  if (!found)
    throw new ValetError(
      'ui_not_built',
      'The window is not built: run `npm run build` (or .ci/setup) first',
    );
  return found;
}

function same(a: string | undefined, b: string): boolean {
  const x = Buffer.from(a ?? '');
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function isJson(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json';
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

const NEW_LINK = 'run `mcp-valet ui` for a new link';

function linkRefusal(reason: LinkRefusal, ttlMs: number): string {
  const minutes = Math.max(1, Math.round(ttlMs / 60_000));
  if (reason === 'used')
    return `This link to MCP Valet was already used (a link opens the window once): ${NEW_LINK}`;
  if (reason === 'expired')
    return `This link to MCP Valet expired (a link works for ${minutes} minute${minutes === 1 ? '' : 's'}): ${NEW_LINK}`;
  return `This link is not valid for the running MCP Valet: ${NEW_LINK}`;
}

/**
 * Serves the window to a browser (`mcp-valet serve --ui`) and its AppApi over HTTP, with the
 * endpoint's protections: loopback Host names only, no foreign Origin, JSON bodies only.
 *
 * No credential of the window is ever a cookie: cookies are not isolated by port, so the
 * browser would hand one to every other server on 127.0.0.1. The link carries a one-use,
 * expiring secret in its fragment (never sent to any server); the page exchanges it once
 * for a session token, keeps that in sessionStorage (its own origin only) and sends it in
 * the Authorization header, which the browser adds to nothing by itself.
 */
export async function startWebBridge(
  api: AppApi,
  options: WebBridgeOptions = {},
): Promise<WebBridge> {
  const dir = resolve(options.dir ?? rendererDir());
  const credentials = new UiCredentials(
    options.linkTtlMs === undefined ? {} : { linkTtlMs: options.linkTtlMs },
  );
  let hosts = new Set<string>();
  let origins = new Set<string>();
  let origin = '';

  const newLink = () => {
    const link = credentials.issueLink();
    return { url: `${origin}/#link=${link.secret}`, expiresAt: link.expiresAt };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!hosts.has(req.headers.host ?? ''))
      return sendError(
        res,
        403,
        'forbidden',
        'This page only answers to 127.0.0.1, localhost or [::1]',
      );
    const from = req.headers.origin;
    if (from !== undefined && !origins.has(from))
      return sendError(res, 403, 'forbidden', 'Requests from other web pages are refused');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const apiPath = path.startsWith('/api/') || path.startsWith('/control/');
    if (!apiPath) {
      if (req.method === 'GET' || req.method === 'HEAD') return files(res, path);
      return sendError(res, 405, 'method_not_allowed', 'Only GET reaches the pages');
    }
    if (req.method === 'POST' && !isJson(req))
      return sendError(
        res,
        415,
        'unsupported_media_type',
        'Send the body as JSON, with Content-Type: application/json',
      );
    if (path === '/control/ui-link' && req.method === 'POST') return linkRoute(req, res);
    if (path === '/api/session' && req.method === 'POST') return session(req, res);
    if (!credentials.isSession(bearerOf(req)))
      return sendError(
        res,
        401,
        'unauthorized',
        `This page has no session with the running MCP Valet: ${NEW_LINK}`,
      );
    if (path === '/api/events' && req.method === 'GET') return events(res);
    const call = /^\/api\/([A-Za-z]+)$/.exec(path)?.[1];
    if (call !== undefined && req.method === 'POST') return calls(req, res, call);
    return sendError(res, 404, 'not_found', 'No such call');
  };

  // A new link for `mcp-valet ui`: the control token only, never a session or a valet key.
  const linkRoute = async (req: IncomingMessage, res: ServerResponse) => {
    const token = options.controlToken;
    // A program sends no Origin; a page has no business asking for links.
    if (!token || req.headers.origin !== undefined || !same(bearerOf(req), token))
      return sendError(
        res,
        401,
        'unauthorized',
        'A new link needs the control token of this run: run `mcp-valet ui`',
      );
    req.resume();
    const link = newLink();
    sendJson(res, 200, { url: link.url, expiresAt: link.expiresAt.toISOString() });
  };

  const session = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readJsonBody(req, 4 * 1024);
    const link =
      body.ok && typeof body.value === 'object' && body.value !== null
        ? (body.value as { link?: unknown }).link
        : undefined;
    if (typeof link !== 'string')
      return sendError(res, 400, 'bad_request', 'Send {"link": "<the secret after #link=>"}');
    const outcome = credentials.redeemLink(link);
    if ('refused' in outcome)
      return sendError(
        res,
        401,
        `link_${outcome.refused}`,
        linkRefusal(outcome.refused, credentials.linkTtlMs),
      );
    sendJson(res, 200, { session: outcome.session });
  };

  const calls = async (req: IncomingMessage, res: ServerResponse, name: string) => {
    const body = await readJsonBody(req, 256 * 1024);
    if (!body.ok) return sendError(res, 400, 'bad_request', 'Send a JSON body');
    const outcome = await dispatchCall(api, name, body.value);
    if (outcome.ok) return sendJson(res, 200, { result: outcome.result });
    sendJson(res, HTTP_STATUS[outcome.error.code] ?? 409, { error: outcome.error });
  };

  const events = (res: ServerResponse) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    const unsubscribe = api.subscribe((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  };

  // The window's files hold no secret: they need no credential.
  const files = async (res: ServerResponse, path: string) => {
    const file = await readWindowFile(dir, path);
    if (!file) return sendError(res, 404, 'not_found', 'No such page');
    res.writeHead(200, { ...file.headers, 'x-frame-options': 'DENY' });
    res.end(file.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() =>
      sendError(res, 500, 'unexpected', 'Something went wrong in MCP Valet'),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  hosts = allowedHosts(port);
  origins = new Set([...hosts].map((h) => `http://${h}`));
  origin = `http://127.0.0.1:${port}`;
  return {
    url: newLink().url,
    origin,
    newLink,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
