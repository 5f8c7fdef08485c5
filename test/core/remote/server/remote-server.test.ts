import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';
import {
  freePort,
  OFFLINE_AUTHORITY,
  OFFLINE_TENANT,
  REMOTE_CLIENT_ID,
  ResponseLog,
  rawRequest,
  startTestRemote,
  tempDir,
  type SeenResponse,
  type TestRemote,
  offlineRemoteEnv,
} from '../../../support/remote-server.ts';

/** A server whose authority is on a closed port: its metadata comes from a file, so nothing is fetched. */
async function offlineEnv(dir: string): Promise<NodeJS.ProcessEnv> {
  return {
    ...(await offlineRemoteEnv(dir)),
  };
}

describe('The remote server shell over real HTTP', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let remote: TestRemote;
  let store: MemoryStore;
  const seen = new ResponseLog();

  async function call(
    path: string,
    options: Parameters<typeof rawRequest>[1] = {},
  ): Promise<SeenResponse> {
    const response = await rawRequest(`${remote.publicUrl}${path}`, options);
    seen.add(response);
    return response;
  }

  beforeAll(async () => {
    dir = await tempDir();
    store = new MemoryStore();
    remote = await startTestRemote(await offlineEnv(dir.dir), { dir: dir.dir, deps: { store } });
  });

  afterAll(async () => {
    await remote?.close();
    await dir?.remove();
  });

  it('answers /healthz with 200 and /readyz with 200 once the store answers and the metadata is loaded', async () => {
    expect((await call('/healthz')).status).toBe(200);
    const ready = await call('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready' });
  });

  it('answers POST /mcp with 401 and a WWW-Authenticate naming the protected-resource metadata', async () => {
    const response = await call('/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(
      `Bearer resource_metadata="${remote.publicUrl}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('answers GET and DELETE /mcp with 405 and Allow: POST', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await call('/mcp', { method });
      expect(response.status, method).toBe(405);
      expect(response.headers.allow).toBe('POST');
    }
  });

  it('refuses a request whose Host is not the public host, port included, with 403', async () => {
    const port = new URL(remote.publicUrl).port;
    for (const host of [`evil.example:${port}`, `127.0.0.1:${port}`, 'localhost:1']) {
      const response = await call('/healthz', { headers: { host } });
      expect(response.status, host).toBe(403);
      expect(response.body).toContain(`answers only to localhost:${port}`);
    }
  });

  it('refuses a request from another origin with 403, and lets the public origin through', async () => {
    const foreign = await call('/mcp', {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain('another origin');
    const own = await call('/healthz', { headers: { origin: remote.publicUrl } });
    expect(own.status).toBe(200);
  });

  it('refuses a body over 1 MiB with 413 before reading it', async () => {
    const response = await call('/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `"${'x'.repeat(1024 * 1024)}"`,
    });
    expect(response.status).toBe(413);
  });

  it('sends nosniff, no-store, a same-origin referrer policy and a CSP that forbids framing on every answer, and no HSTS on http', async () => {
    for (const path of ['/healthz', '/', '/nowhere']) {
      const { headers } = await call(path);
      expect(headers['x-content-type-options'], path).toBe('nosniff');
      expect(headers['cache-control'], path).toBe('no-store');
      expect(headers['referrer-policy'], path).toBe('same-origin');
      expect(headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
      expect(headers['content-security-policy'], path).toContain("default-src 'none'");
      expect(headers['strict-transport-security'], path).toBeUndefined();
      expect(headers['x-powered-by'], path).toBeUndefined();
    }
  });

  it('starts a sign-in with PKCE S256, a nonce, a state and the query response mode, binding it with a cookie without __Host- or Secure on http localhost', async () => {
    const response = await call('/auth/login');
    expect(response.status).toBe(303);
    const location = new URL(String(response.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(
      `${OFFLINE_AUTHORITY}/oauth2/v2.0/authorize`,
    );
    const query = location.searchParams;
    expect(query.get('client_id')).toBe(REMOTE_CLIENT_ID);
    expect(query.get('redirect_uri')).toBe(`${remote.publicUrl}/auth/callback`);
    expect(query.get('code_challenge_method')).toBe('S256');
    expect(query.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.get('response_mode')).toBe('query');
    const cookies = [response.headers['set-cookie'] ?? []].flat();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^mv_login=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; Expires=/);
    expect(cookies[0]).toContain('HttpOnly');
    expect(cookies[0]).toContain('SameSite=Lax');
    expect(cookies[0]).not.toContain('Secure');
  });

  it('answers /readyz with 503 and Retry-After once the store is closed, while /healthz stays 200', async () => {
    await store.close();
    const ready = await call('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBe('5');
    expect(JSON.parse(ready.body)).toEqual({ status: 'not ready', waiting: ['store'] });
    expect((await call('/healthz')).status).toBe(200);
  });

  it('sent no Entra token in any answer or log line', () => {
    for (const line of remote.logger.lines) seen.addText(line);
    expect(seen.size).toBeGreaterThan(20);
    expect(seen.withTokens()).toEqual([]);
  });
});

describe('The remote server shell over https', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let remote: TestRemote;

  beforeAll(async () => {
    dir = await tempDir();
    remote = await startTestRemote(await offlineEnv(dir.dir), { dir: dir.dir, https: true });
  });

  afterAll(async () => {
    await remote?.close();
    await dir?.remove();
  });

  it('serves https with HSTS on every answer, a refusal included', async () => {
    const ok = await rawRequest(`${remote.publicUrl}/healthz`);
    expect(ok.status).toBe(200);
    expect(ok.headers['strict-transport-security']).toBe('max-age=31536000');
    const refused = await rawRequest(`${remote.publicUrl}/healthz`, {
      headers: { host: 'evil.example' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('sets the sign-in cookie as __Host-mv_login with Secure on https', async () => {
    const response = await rawRequest(`${remote.publicUrl}/auth/login`);
    expect(response.status).toBe(303);
    const cookie = [response.headers['set-cookie'] ?? []].flat()[0] ?? '';
    expect(cookie).toMatch(/^__Host-mv_login=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toContain('Domain');
  });
});

describe('The remote server shell with both auth modes, and before the authority answers', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let remote: TestRemote;
  let closedPort: number;

  beforeAll(async () => {
    dir = await tempDir();
    closedPort = await freePort();
    // No metadata file: the server asks the authority, which is on a closed loopback port.
    remote = await startTestRemote(
      {
        VALET_CLIENT_ID: REMOTE_CLIENT_ID,
        VALET_AUTHORITY: `https://localhost:${closedPort}/${OFFLINE_TENANT}`,
        VALET_CLIENT_SECRET: 'not-used-offline',
        VALET_REMOTE_AUTH: 'both',
      },
      { dir: dir.dir },
    );
  });

  afterAll(async () => {
    await remote?.close();
    await dir?.remove();
  });

  it('answers POST /entra/mcp with 401 naming its own protected-resource metadata, next to /mcp', async () => {
    for (const path of ['/mcp', '/entra/mcp']) {
      const response = await rawRequest(`${remote.publicUrl}${path}`, { method: 'POST' });
      expect(response.status, path).toBe(401);
      expect(response.headers['www-authenticate'], path).toBe(
        `Bearer resource_metadata="${remote.publicUrl}/.well-known/oauth-protected-resource${path}"`,
      );
    }
    expect(remote.server.mcpUrls).toEqual([
      `${remote.publicUrl}/mcp`,
      `${remote.publicUrl}/entra/mcp`,
    ]);
  });

  it('is not ready while the authority cannot be reached: /readyz 503, /auth/login 503, and the log says why', async () => {
    const ready = await rawRequest(`${remote.publicUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toEqual({ status: 'not ready', waiting: ['authority'] });
    const login = await rawRequest(`${remote.publicUrl}/auth/login`);
    expect(login.status).toBe(503);
    expect(login.headers['retry-after']).toBe('10');
    expect(login.body).toContain('has not reached the sign-in authority yet');
    expect(remote.logger.lines.join('\n')).toContain(
      `warn: The authority's OpenID configuration could not be loaded: localhost:${closedPort} cannot be reached (ECONNREFUSED)`,
    );
  });
});

describe('A remote server started with a data dir', () => {
  it('writes nothing under the home folder: its config.json and audit log live in VALET_DATA_DIR', async () => {
    const home = await tempDir();
    const dir = await tempDir();
    const saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
    process.env.HOME = home.dir;
    delete process.env.XDG_CONFIG_HOME;
    try {
      const remote = await startTestRemote(await offlineEnv(dir.dir), { dir: dir.dir });
      expect(remote.config.dataDir).toBe(dir.dir);
      expect((await rawRequest(`${remote.publicUrl}/readyz`)).status).toBe(200);
      await remote.close();
      expect(await readdir(home.dir)).toEqual([]);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await home.remove();
      await dir.remove();
    }
  });
});
