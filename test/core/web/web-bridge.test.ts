import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppApi } from '../../../main/core/app/app-api.ts';
import { startWebBridge, type WebBridge } from '../../../main/core/web/web-bridge.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { useValet } from '../../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele);
const CONTROL_TOKEN = 'control-token-of-this-run-0123456789abcdef';
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
let dir: string;
let bridge: WebBridge;
const replies: Reply[] = [];

beforeAll(async () => {
  // The bridge's protections, tested on a stand-in page; the real window has its own tests.
  dir = await mkdtemp(join(tmpdir(), 'valet-ui-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>MCP Valet</title><p>window</p>');
  bridge = await startWebBridge(createAppApi(fx.valet.core), {
    dir,
    controlToken: CONTROL_TOKEN,
  });
});
afterAll(async () => {
  await bridge?.close();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    to?: WebBridge;
  } = {},
): Promise<Reply> {
  const url = new URL((options.to ?? bridge).origin);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: { host: url.host, ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => {
          const reply = { status: res.statusCode ?? 0, headers: res.headers, body };
          replies.push(reply);
          resolve(reply);
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const post = (path: string, body: unknown, headers: Record<string, string> = {}, to?: WebBridge) =>
  send(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { ...JSON_TYPE, ...headers },
    ...(to ? { to } : {}),
  });

/** The one-use secret of a link: it travels in the fragment, which browsers never send. */
function secretOf(link: string): string {
  const url = new URL(link);
  expect(url.search).toBe('');
  expect(url.pathname).toBe('/');
  const secret = new URLSearchParams(url.hash.slice(1)).get('link');
  expect(secret).toMatch(/^[\w-]{43}$/);
  return secret!;
}

async function exchange(link: string, to?: WebBridge): Promise<Reply> {
  return post('/api/session', { link: secretOf(link) }, {}, to);
}

/** A fresh session of the window: a new link, spent once. */
async function session(): Promise<string> {
  const reply = await exchange(bridge.newLink().url);
  expect(reply.status).toBe(200);
  const token = JSON.parse(reply.body).session as string;
  expect(token).toMatch(/^[\w-]{43}$/);
  return token;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('web bridge', () => {
  it('serves the page and its files without a credential, under a strict CSP, and with no secret in them', async () => {
    const page = await send('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<p>window</p>');
    expect(page.headers['content-security-policy']).toBe(CSP);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).not.toContain(secretOf(bridge.url));
    expect((await send('/../package.json')).status).toBe(404);
    expect((await send('/%2e%2e/package.json')).status).toBe(404);
  });

  it('opens a session once per link: the same link a second time is refused, naming `mcp-valet ui`', async () => {
    const link = bridge.newLink();
    expect(link.expiresAt.getTime() - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(link.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(10 * 60_000);
    const first = await exchange(link.url);
    expect(first.status).toBe(200);
    const token = JSON.parse(first.body).session as string;
    expect(token).not.toBe(secretOf(link.url));
    const again = await exchange(link.url);
    expect(again.status).toBe(401);
    expect(JSON.parse(again.body).error).toEqual({
      code: 'link_used',
      message:
        'This link to MCP Valet was already used (a link opens the window once): run `mcp-valet ui` for a new link',
    });
    // The session it opened still works.
    expect((await post('/api/getStatus', {}, bearer(token))).status).toBe(200);
    // So does the first link of the run, once.
    expect((await exchange(bridge.url)).status).toBe(200);
    expect((await exchange(bridge.url)).status).toBe(401);
    const forged = await post('/api/session', { link: 'A'.repeat(43) });
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.body).error.message).toContain('run `mcp-valet ui` for a new link');
  });

  it('refuses a link opened after it expired, naming `mcp-valet ui`', async () => {
    const short = await startWebBridge(createAppApi(fx.valet.core), { dir, linkTtlMs: 60_000 });
    const quick = await startWebBridge(createAppApi(fx.valet.core), { dir, linkTtlMs: 30 });
    try {
      const late = quick.newLink();
      const inTime = short.newLink();
      await wait(60);
      const refused = await exchange(late.url, quick);
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body).error).toMatchObject({
        code: 'link_expired',
        message: expect.stringContaining('expired'),
      });
      expect(JSON.parse(refused.body).error.message).toContain('run `mcp-valet ui` for a new link');
      // The same wait is nothing to a link with minutes to live.
      expect((await exchange(inTime.url, short)).status).toBe(200);
    } finally {
      await Promise.all([short.close(), quick.close()]);
    }
  });

  it('refuses every API call and the event stream without a session token, or with a wrong one (401)', async () => {
    const token = await session();
    const { secret: valetKey } = await fx.valet.createKey({ name: 'bridge-401' });
    const unused = secretOf(bridge.newLink().url);
    const wrong: Record<string, Record<string, string>> = {
      none: {},
      empty: { authorization: 'Bearer ' },
      forged: bearer('A'.repeat(43)),
      'one character off': bearer(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')),
      'a link secret': bearer(unused),
      'the control token': bearer(CONTROL_TOKEN),
      'a valet key': bearer(valetKey),
      'as a cookie': { cookie: `valet_ui=${token}; session=${token}` },
    };
    for (const [name, headers] of Object.entries(wrong)) {
      const status = await post('/api/getStatus', {}, headers);
      expect(status.status, name).toBe(401);
      expect(JSON.parse(status.body).error.message, name).toContain('`mcp-valet ui`');
      expect((await send('/api/events', { headers })).status, name).toBe(401);
    }
    const status = await post('/api/getStatus', {}, bearer(token));
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body).result).toMatchObject({
      configured: true,
      account: { username: adele.username },
    });
  });

  it('refuses a POST whose body is not declared JSON with 415, even with a session', async () => {
    const token = await session();
    const types = [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
    ];
    for (const type of types) {
      const res = await send('/api/createKey', {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': type },
        body: JSON.stringify({ name: 'by-form', tools: ['send_mail'], readOnly: false }),
      });
      expect(res.status, type).toBe(415);
      expect(JSON.parse(res.body).error.message).toBe(
        'Send the body as JSON, with Content-Type: application/json',
      );
    }
    const untyped = await send('/api/session', {
      method: 'POST',
      body: JSON.stringify({ link: secretOf(bridge.newLink().url) }),
    });
    expect(untyped.status).toBe(415);
    expect((await fx.valet.core.keys.list()).map((k) => k.name)).not.toContain('by-form');
    const typed = await post(
      '/api/getStatus',
      {},
      { ...bearer(token), 'content-type': 'application/json; charset=utf-8' },
    );
    expect(typed.status).toBe(200);
  });

  it('refuses foreign origins and foreign Host names, even with a valid session token', async () => {
    const token = await session();
    const mine = await post('/api/listKeys', {}, { ...bearer(token), origin: bridge.origin });
    expect(mine.status).toBe(200);
    for (const origin of ['https://evil.example', 'http://127.0.0.1:1', 'null']) {
      const foreign = await post('/api/listKeys', {}, { ...bearer(token), origin });
      expect(foreign.status, origin).toBe(403);
      expect(JSON.parse(foreign.body).error.message).toBe(
        'Requests from other web pages are refused',
      );
    }
    const rebound = await post('/api/listKeys', {}, { ...bearer(token), host: 'evil.example' });
    expect(rebound.status).toBe(403);
    expect((await send('/', { headers: { host: 'evil.example' } })).status).toBe(403);
  });

  it('validates requests with the call schemas and reports errors in words, naming every field at fault', async () => {
    const headers = bearer(await session());
    const bad = await post('/api/saveSettings', { clientId: 'not-a-guid', tenantId: 'x' }, headers);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toEqual({
      code: 'invalid_request',
      message: 'saveSettings: clientId: is not a GUID',
      fields: ['clientId', 'tenantId'],
    });
    expect((await post('/api/dropTables', {}, headers)).status).toBe(404);
    const failing = await post('/api/revokeKey', { id: 'nope' }, headers);
    expect(failing.status).toBe(409);
    expect(JSON.parse(failing.body).error.message).toContain("No key matches 'nope'");
  });

  it('pushes events over a server-sent event stream to a request with the session token', async () => {
    const token = await session();
    const url = new URL(bridge.origin);
    const received = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: url.port,
          path: '/api/events',
          headers: { host: url.host, ...bearer(token) },
        },
        (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          let buffer = '';
          res.setEncoding('utf8').on('data', (c: string) => {
            buffer += c;
            if (buffer.includes('approval-requested')) {
              req.destroy();
              resolve(buffer);
            }
          });
        },
      );
      req.on('error', (err) => (String(err).includes('aborted') ? undefined : reject(err)));
      req.end();
      setTimeout(() => {
        void fx.valet.core.approvals.request(
          {
            tool: 'send_mail',
            action: 'Send an email',
            key: { id: 'k', name: 'k' },
            client: null,
            account: adele.username,
            summary: [],
          },
          1_000,
        );
      }, 100);
    });
    expect(received).toMatch(/^: connected\n\ndata: \{"type":"approval-requested"/m);
  });

  it('gives a new link on its control route for the control token only, never for a session or a valet key', async () => {
    const token = await session();
    const { secret: valetKey } = await fx.valet.createKey({ name: 'bridge-link' });
    const refused: Record<string, Record<string, string>> = {
      none: {},
      wrong: bearer('B'.repeat(CONTROL_TOKEN.length)),
      'a session token': bearer(token),
      'a valet key': bearer(valetKey),
      'a link secret': bearer(secretOf(bridge.newLink().url)),
      'the control token, from a page of its own origin': {
        ...bearer(CONTROL_TOKEN),
        origin: bridge.origin,
      },
    };
    for (const [name, headers] of Object.entries(refused)) {
      const res = await post('/control/ui-link', {}, headers);
      expect(res.status, name).toBe(401);
      expect(res.body, name).not.toContain('#link=');
    }
    const textPlain = await send('/control/ui-link', {
      method: 'POST',
      headers: { ...bearer(CONTROL_TOKEN), 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(textPlain.status).toBe(415);

    const given = await post('/control/ui-link', {}, bearer(CONTROL_TOKEN));
    expect(given.status).toBe(200);
    const { url, expiresAt } = JSON.parse(given.body) as { url: string; expiresAt: string };
    expect(url.startsWith(`${bridge.origin}/#link=`)).toBe(true);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    expect((await exchange(url)).status).toBe(200);
    expect((await exchange(url)).status).toBe(401);

    // A bridge started without the run's control token hands out no link at all.
    const lone = await startWebBridge(createAppApi(fx.valet.core), { dir });
    try {
      const res = await post('/control/ui-link', {}, bearer(CONTROL_TOKEN), lone);
      expect(res.status).toBe(401);
    } finally {
      await lone.close();
    }
  });

  it('sets no cookie in any of its answers', () => {
    expect(replies.length).toBeGreaterThan(50);
    for (const reply of replies) expect(reply.headers['set-cookie']).toBeUndefined();
  });
});
