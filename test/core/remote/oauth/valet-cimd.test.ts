import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CimdClients } from '../../../../main/core/remote/oauth/cimd-clients.ts';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';
import { silentLogger } from '../../../../main/core/util/logger.ts';
import { startCimdHost, type CimdHost } from '../../../support/cimd-host.ts';
import { JWT_SHAPE } from '../../../support/remote-server.ts';
import {
  answerConsent,
  startValetAuth,
  TestOAuthClient,
  type ValetAuthHarness,
} from '../../../support/valet-auth-harness.ts';

const REDIRECT = 'http://127.0.0.1:53682/callback';
const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** A document host serving `doc(url)` at /client.json, with optional headers. */
async function documentHost(
  doc: (url: string) => unknown,
  options: { dns?: string[]; headers?: Record<string, string>; status?: number } = {},
): Promise<CimdHost> {
  const host = await startCimdHost((req, res, port) => {
    const name = (req.headers.host ?? `localhost:${port}`).split(':')[0];
    const url = `https://${name}:${port}/client.json`;
    res.writeHead(options.status ?? 200, {
      'content-type': 'application/json',
      ...options.headers,
    });
    res.end(JSON.stringify(doc(url)));
  }, options.dns);
  cleanup.push(() => host.close());
  return host;
}

async function harness(...args: Parameters<typeof startValetAuth>): Promise<ValetAuthHarness> {
  const h = await startValetAuth(...args);
  cleanup.push(async () => {
    expect(h.seen.filter((s) => JWT_SHAPE.test(`${s.headers}${s.body}`)).map((s) => s.url)).toEqual(
      [],
    );
    await h.close();
  });
  return h;
}

/** /authorize for a client ID, as a browser opens it; resolves to the status and JSON body. */
async function authorizeAs(h: ValetAuthHarness, clientId: string) {
  const url = new URL(`${h.url}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  }).toString();
  const res = await h.fetch(url, { redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, location: res.headers.get('location'), body: text };
}

const goodDocument = (url: string) => ({
  client_id: url,
  client_name: 'Docs Client',
  redirect_uris: [REDIRECT],
  token_endpoint_auth_method: 'none',
});

describe('client ID metadata documents', () => {
  it('lets the SDK client use its metadata document URL as client ID, with no registration, through consent to a token', async () => {
    const host = await documentHost(goodDocument);
    const h = await harness();
    const metadataUrl = `https://localhost:${host.port}/client.json`;
    const client = new TestOAuthClient({ clientMetadataUrl: metadataUrl });
    const session = await h.signIn();
    expect(await auth(client, { serverUrl: h.mcpUrl, fetchFn: h.fetch })).toBe('REDIRECT');
    expect(client.authorizationUrl?.searchParams.get('client_id')).toBe(metadataUrl);
    const run = await answerConsent(h, client.authorizationUrl as URL, session);
    expect(run.page).toContain('Docs Client');
    expect(run.page).toContain('id="localhost-warning"');
    const code = run.redirect.searchParams.get('code') ?? '';
    expect(
      await auth(client, { serverUrl: h.mcpUrl, authorizationCode: code, fetchFn: h.fetch }),
    ).toBe('AUTHORIZED');
    const info = await h.server.provider.verifyAccessToken(client.tokens()?.access_token ?? '');
    expect(info.clientId).toBe(metadataUrl);
    expect(h.seen.some((s) => s.url.endsWith('/register'))).toBe(false);
    // /authorize, the consent page, its post and /token all read the cached document.
    expect(host.requests).toHaveLength(1);
  });

  it('refuses a document on a loopback address whose host VALET_CIMD_HOSTS does not name, without connecting', async () => {
    const host = await documentHost(goodDocument);
    const h = await harness();
    const res = await authorizeAs(h, `https://127.0.0.1:${host.port}/client.json`);
    expect(res.status).toBe(400);
    expect(res.location).toBeNull();
    expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_client' });
    expect(JSON.parse(res.body).error_description).toMatch(
      /127\.0\.0\.1, which is a loopback address/,
    );
    expect(host.requests).toEqual([]);
  });

  it('refuses a host that resolves to a private address, without connecting to it', async () => {
    const resolved: string[] = [];
    const h = await harness({}, async (name) => {
      resolved.push(name);
      return [{ address: '10.20.30.40', family: 4 }];
    });
    const res = await authorizeAs(h, 'https://intranet.test/client.json');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error_description).toMatch(
      /intranet\.test, which is a private address \(10\.20\.30\.40\)/,
    );
    expect(resolved).toEqual(['intranet.test']);
  });

  it('connects to the address it checked, with no second lookup, while TLS checks the named host', async () => {
    const host = await documentHost(goodDocument, { dns: ['cimd.test'] });
    let lookups = 0;
    const h = await harness({ cimdHosts: { anyPublic: false, hosts: ['cimd.test'] } }, async () => {
      lookups += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    });
    const res = await authorizeAs(h, `https://cimd.test:${host.port}/client.json`);
    expect(res.status).toBe(302);
    expect(res.location).toMatch(/\/consent\/mvq_/);
    expect(lookups).toBe(1);
    expect(host.requests).toEqual([{ path: '/client.json', host: `cimd.test:${host.port}` }]);
  });

  it('refuses a document naming another client_id, one answered by a redirect, and caches the refusal for a minute', async () => {
    const wrongId = await documentHost((url) => ({
      ...goodDocument(url),
      client_id: `${url}?other`,
    }));
    const h = await harness();
    const url = `https://localhost:${wrongId.port}/client.json`;
    expect(JSON.parse((await authorizeAs(h, url)).body).error_description).toMatch(
      /names another client_id/,
    );
    expect(JSON.parse((await authorizeAs(h, url)).body).error_description).toMatch(
      /names another client_id/,
    );
    expect(wrongId.requests).toHaveLength(1);
    const redirecting = await documentHost(goodDocument, {
      status: 302,
      headers: { location: 'https://localhost/x' },
    });
    expect(
      JSON.parse((await authorizeAs(h, `https://localhost:${redirecting.port}/client.json`)).body)
        .error_description,
    ).toMatch(/redirect \(HTTP 302\), which is not followed/);
  });

  it('refuses a document with a secret-based auth method or an http redirect URI on a public host', async () => {
    const secret = await documentHost((url) => ({
      ...goodDocument(url),
      token_endpoint_auth_method: 'client_secret_post',
    }));
    const http = await documentHost((url) => ({
      ...goodDocument(url),
      redirect_uris: ['http://evil.example/cb'],
    }));
    const h = await harness();
    expect(
      JSON.parse((await authorizeAs(h, `https://localhost:${secret.port}/client.json`)).body)
        .error_description,
    ).toMatch(/token_endpoint_auth_method "client_secret_post"/);
    expect(
      JSON.parse((await authorizeAs(h, `https://localhost:${http.port}/client.json`)).body)
        .error_description,
    ).toMatch(/uses http on a host that is not loopback/);
  });

  it('cuts off a document larger than the limit and one that does not arrive in time', async () => {
    const big = await documentHost((url) => ({ ...goodDocument(url), padding: 'x'.repeat(8000) }));
    const slow = await startCimdHost(() => undefined);
    cleanup.push(() => slow.close());
    const store = new MemoryStore();
    cleanup.push(() => store.close());
    const cimd = new CimdClients({
      store,
      hosts: { anyPublic: false, hosts: ['localhost'] },
      logger: silentLogger,
      limits: { timeoutMs: 300, maxBytes: 5 * 1024 },
    });
    await expect(cimd.client(`https://localhost:${big.port}/client.json`)).rejects.toThrow(
      /larger than 5120 bytes/,
    );
    const started = Date.now();
    await expect(cimd.client(`https://localhost:${slow.port}/client.json`)).rejects.toThrow(
      /did not arrive within 0.3 s/,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('dynamic client registration', () => {
  async function register(h: ValetAuthHarness, body: Record<string, unknown>) {
    const res = await h.fetch(`${h.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('registers a public client without a secret, and refuses a secret-based method with invalid_client_metadata', async () => {
    const h = await harness();
    const ok = await register(h, { client_name: 'Plain', redirect_uris: [REDIRECT] });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ token_endpoint_auth_method: 'none', client_name: 'Plain' });
    expect(ok.body.client_secret).toBeUndefined();
    const secret = await register(h, {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(secret).toMatchObject({ status: 400, body: { error: 'invalid_client_metadata' } });
    expect(String(secret.body.error_description)).toMatch(/public clients only.*"none"/);
  });

  it('refuses redirect URIs on http off loopback, with a fragment, or of a scheme that loads or runs something, accepts an app’s own scheme, and refuses an overlong client name', async () => {
    const h = await harness();
    for (const [uri, why] of [
      ['http://example.com/cb', /not loopback/],
      ['https://example.com/cb#frag', /fragment/],
      // The SDK's own check refuses these two first, in its words.
      ['javascript://x/%0aalert(1)', /javascript:.*scheme/],
      ['data:text/html,<script>alert(1)</script>', /data:.*scheme/],
      ['file:///etc/passwd', /scheme file:/],
    ] as const) {
      const res = await register(h, { redirect_uris: [uri], token_endpoint_auth_method: 'none' });
      expect(res.status).toBe(400);
      expect(String(res.body.error_description)).toMatch(why);
    }
    // A native app's own scheme (RFC 8252 §7.1), as Cursor registers.
    const app = await register(h, {
      redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'],
      token_endpoint_auth_method: 'none',
    });
    expect(app.status).toBe(201);
    const long = await register(h, { client_name: 'n'.repeat(101), redirect_uris: [REDIRECT] });
    expect(String(long.body.error_description)).toMatch(/longer than 100 characters/);
  });

  it('has no /register and advertises none when DCR is switched off', async () => {
    const h = await harness({ dcr: false });
    const res = await h.fetch(`${h.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(404);
    const metadata = (await (
      await h.fetch(`${h.url}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata.registration_endpoint).toBeUndefined();
  });
});
