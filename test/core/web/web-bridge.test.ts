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
let bridge: WebBridge;
let secretKey: string;

beforeAll(async () => {
  // The bridge's protections, tested on a stand-in page; the real window has its own test.
  const dir = await mkdtemp(join(tmpdir(), 'valet-ui-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>MCP Valet</title><p>window</p>');
  bridge = await startWebBridge(createAppApi(fx.valet.core), { dir });
  secretKey = new URL(bridge.url).searchParams.get('key')!;
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
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const url = new URL(bridge.url);
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
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function login(): Promise<string> {
  const res = await send(`/?key=${secretKey}`);
  expect(res.status).toBe(302);
  expect(res.headers.location).toBe('/');
  const cookie = String(res.headers['set-cookie']);
  expect(cookie).toMatch(/^valet_ui=[\w-]+; HttpOnly; SameSite=Strict; Path=\/$/);
  return cookie.split(';')[0]!;
}

describe('web bridge', () => {
  it('refuses everything without the run secret', async () => {
    expect((await send('/')).status).toBe(401);
    expect(
      (
        await send('/api/getStatus', {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(401);
    expect((await send('/?key=not-the-secret')).status).toBe(401);
    expect((await send('/api/events')).status).toBe(401);
  });

  it('exchanges the secret for an HttpOnly SameSite=Strict cookie and serves the page under a strict CSP', async () => {
    const cookie = await login();
    expect(cookie).not.toContain(secretKey);
    const page = await send('/', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(page.body).not.toContain(secretKey);
    const status = await send('/api/getStatus', {
      method: 'POST',
      body: '{}',
      headers: { cookie, 'content-type': 'application/json', origin: bridge.origin },
    });
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body).result).toMatchObject({
      configured: true,
      account: { username: adele.username },
    });
  });

  it('refuses foreign origins and foreign Host names, even with the cookie', async () => {
    const cookie = await login();
    const foreign = await send('/api/listKeys', {
      method: 'POST',
      body: '{}',
      headers: { cookie, 'content-type': 'application/json', origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    const rebound = await send('/', { headers: { cookie, host: 'evil.example' } });
    expect(rebound.status).toBe(403);
  });

  it('validates requests with the contract and reports errors in words', async () => {
    const cookie = await login();
    const headers = { cookie, 'content-type': 'application/json' };
    const bad = await send('/api/saveSettings', {
      method: 'POST',
      body: JSON.stringify({ clientId: 'not-a-guid', tenantId: 'x' }),
      headers,
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toEqual({
      code: 'invalid_request',
      message: 'saveSettings: clientId: must be a GUID',
    });
    const unknown = await send('/api/dropTables', { method: 'POST', body: '{}', headers });
    expect(unknown.status).toBe(404);
    const failing = await send('/api/revokeKey', {
      method: 'POST',
      body: JSON.stringify({ id: 'nope' }),
      headers,
    });
    expect(failing.status).toBe(409);
    expect(JSON.parse(failing.body).error.message).toContain("No key matches 'nope'");
    expect((await send('/../package.json', { headers: { cookie } })).status).toBe(404);
    expect((await send('/%2e%2e/package.json', { headers: { cookie } })).status).toBe(404);
  });

  it('pushes events over server-sent events', async () => {
    const cookie = await login();
    const url = new URL(bridge.url);
    const received = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: url.port,
          path: '/api/events',
          headers: { host: url.host, cookie },
        },
        (res) => {
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
});
