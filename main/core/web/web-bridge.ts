import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CALL_NAMES, CALLS, type AppApi, type CallName } from '../../../preload/contract.ts';
import { allowedHosts, readJsonBody } from '../endpoint/request-guards.ts';
import { isValetError, ValetError } from '../util/valet-error.ts';
import { CONTENT_SECURITY_POLICY } from './csp.ts';

const COOKIE = 'valet_ui';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

/** A running web bridge. */
export interface WebBridge {
  /** Where the UI is, with the one-run secret: the URL the CLI prints and opens. */
  url: string;
  origin: string;
  close(): Promise<void>;
}

/** The built renderer: next to the compiled core in dist/, or dist/ from the sources. */
export function rendererDir(): string {
  const candidates = ['../../renderer', '../../../dist/renderer'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
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
    if (!(CALL_NAMES as string[]).includes(name))
      return sendJson(res, 404, {
        error: { code: 'unknown_call', message: `There is no call named ${name}` },
      });
    const body = await readJsonBody(req, 256 * 1024);
    if (!body.ok)
      return sendJson(res, 400, { error: { code: 'bad_request', message: 'Send a JSON body' } });
    const request = CALLS[name as CallName].request.safeParse(body.value);
    if (!request.success) {
      const issue = request.error.issues[0];
      return sendJson(res, 400, {
        error: {
          code: 'invalid_request',
          message: `${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'is not valid'}`,
        },
      });
    }
    try {
      const result = await (api[name as CallName] as (r: unknown) => Promise<unknown>)(
        request.data,
      );
      sendJson(res, 200, { result: result ?? null });
    } catch (err) {
      sendJson(res, isValetError(err) ? 409 : 500, {
        error: isValetError(err)
          ? { code: err.code, message: err.message }
          : { code: 'unexpected', message: 'Something went wrong in MCP Valet: see its log' },
      });
    }
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
    const file = resolve(dir, `.${path === '/' ? '/index.html' : decodeURIComponent(path)}`);
    if (!file.startsWith(dir + sep))
      return sendJson(res, 404, { error: { code: 'not_found', message: 'No such page' } });
    const content = await readFile(file).catch(() => undefined);
    if (!content)
      return sendJson(res, 404, { error: { code: 'not_found', message: 'No such page' } });
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
    });
    res.end(content);
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
