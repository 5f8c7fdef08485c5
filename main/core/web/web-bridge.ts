import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppApi } from '../../../preload/contract.ts';
import { dispatchCall } from '../app/dispatch-call.ts';
import { allowedHosts, readJsonBody } from '../endpoint/request-guards.ts';
import { ValetError } from '../util/valet-error.ts';
import { readWindowFile } from './static-files.ts';

const COOKIE = 'valet_ui';
/** HTTP status of a failed call, by its error code; other refusals by the core are 409. */
const HTTP_STATUS: Record<string, number> = {
  unknown_call: 404,
  invalid_request: 400,
  unexpected: 500,
};

/** A running web bridge. */
export interface WebBridge {
  /** Where the UI is, with the one-run secret: the URL the CLI prints and opens. */
  url: string;
  origin: string;
  close(): Promise<void>;
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

function cookieOf(req: IncomingMessage): string | undefined {
  return (req.headers.cookie ?? '')
    .split(';')
    .map((c) => c.trim().split('='))
    .find(([k]) => k === COOKIE)?.[1];
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(JSON.stringify(body));
}

/**
 * Serves the window to a browser (`mcp-valet serve --ui`) and its AppApi over HTTP, with the
 * endpoint's protections: loopback Host names only, no foreign Origin, and a per-run secret.
 * The secret travels once, in the URL the CLI prints; it is exchanged for an HttpOnly,
 * SameSite=Strict session cookie and the page is reloaded without it, so no script on the
 * page ever holds it.
 */
export async function startWebBridge(
  api: AppApi,
  options: { port?: number; dir?: string } = {},
): Promise<WebBridge> {
  const dir = resolve(options.dir ?? rendererDir());
  const secret = randomBytes(32).toString('base64url');
  const session = randomBytes(32).toString('base64url');
  let hosts = new Set<string>();
  let origins = new Set<string>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!hosts.has(req.headers.host ?? ''))
      return sendJson(res, 403, {
        error: {
          code: 'forbidden',
          message: 'This page only answers to 127.0.0.1, localhost or [::1]',
        },
      });
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin))
      return sendJson(res, 403, {
        error: { code: 'forbidden', message: 'Requests from other web pages are refused' },
      });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/' && url.searchParams.has('key')) {
      if (!same(url.searchParams.get('key') ?? '', secret))
        return sendJson(res, 401, {
          error: {
            code: 'unauthorized',
            message:
              'That link is not valid for this run: use the one `mcp-valet serve --ui` printed',
          },
        });
      res.writeHead(302, {
        location: '/',
        'set-cookie': `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      });
      return res.end();
    }
    if (!same(cookieOf(req), session)) {
      return sendJson(res, 401, {
        error: {
          code: 'unauthorized',
          message: 'Open MCP Valet with the link `mcp-valet serve --ui` printed',
        },
      });
    }
    if (url.pathname === '/api/events' && req.method === 'GET') return events(res);
    const call = /^\/api\/([A-Za-z]+)$/.exec(url.pathname)?.[1];
    if (call !== undefined && req.method === 'POST') return calls(req, res, call);
    if (req.method === 'GET') return files(res, url.pathname);
    return sendJson(res, 404, { error: { code: 'not_found', message: 'No such page' } });
  };

  const calls = async (req: IncomingMessage, res: ServerResponse, name: string) => {
    const body = await readJsonBody(req, 256 * 1024);
    if (!body.ok)
      return sendJson(res, 400, { error: { code: 'bad_request', message: 'Send a JSON body' } });
    const outcome = await dispatchCall(api, name, body.value);
    if (outcome.ok) return sendJson(res, 200, { result: outcome.result });
    sendJson(res, HTTP_STATUS[outcome.error.code] ?? 409, { error: outcome.error });
  };

  const events = (res: ServerResponse) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
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

  const files = async (res: ServerResponse, path: string) => {
    const file = await readWindowFile(dir, path);
    if (!file) return sendJson(res, 404, { error: { code: 'not_found', message: 'No such page' } });
    res.writeHead(200, { ...file.headers, 'x-frame-options': 'DENY' });
    res.end(file.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() =>
      sendJson(res, 500, {
        error: { code: 'unexpected', message: 'Something went wrong in MCP Valet' },
      }),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  hosts = allowedHosts(port);
  origins = new Set([...hosts].map((h) => `http://${h}`));
  return {
    url: `http://127.0.0.1:${port}/?key=${secret}`,
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
