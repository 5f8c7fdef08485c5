import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createValetAuthServer } from '../../../../main/core/remote/oauth/valet-auth-router.ts';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';
import { ALICE, readConsentForm } from '../../../support/valet-auth-harness.ts';

const REDIRECT_URI = 'http://127.0.0.1:53682/callback';
const CSRF = randomBytes(16).toString('base64url');

describe('valet mode published under a path of its host (https://host/team)', () => {
  const store = new MemoryStore();
  let http: Server;
  let origin: string;
  let publicUrl: string;

  beforeAll(async () => {
    const app = express();
    http = createServer(app);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    publicUrl = `${origin}/team`;
    const server = createValetAuthServer({
      config: {
        publicUrl,
        mcpUrl: `${publicUrl}/mcp`,
        dcr: true,
        cimd: false,
        cimdHosts: { anyPublic: false, hosts: [] },
        tokenTtlSeconds: 3600,
        refreshTtlSeconds: 7200,
        consentTtlDays: 90,
      },
      store,
      // A browser with the cookie is signed in; any other is not.
      currentUser: (req) =>
        req.headers.cookie === 'signed-in=1' ? { ...ALICE, csrf: CSRF } : undefined,
      loginPath: (returnTo) => `/team/sign-in?next=${encodeURIComponent(returnTo)}`,
    });
    // As the remote app mounts every route under the public URL's path.
    app.use('/team', server.router);
  });

  afterAll(async () => {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await store.close();
  });

  /** Registers a client and starts its authorization; resolves to the consent page's URL. */
  async function startAuthorization(): Promise<URL> {
    const registered = await fetch(`${publicUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Team client',
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
      }),
    });
    expect(registered.status).toBe(201);
    const { client_id: clientId } = (await registered.json()) as { client_id: string };
    const verifier = randomBytes(32).toString('base64url');
    const authorize = new URL(`${publicUrl}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: 'team-state',
      scope: 'valet.read',
      resource: `${publicUrl}/mcp`,
    }).toString();
    const started = await fetch(authorize, { redirect: 'manual' });
    expect(started.status).toBe(302);
    return new URL(started.headers.get('location') ?? '', origin);
  }

  it('posts the consent form to /team/consent/<id>, and that post sends the browser back to the client with a code', async () => {
    const consentUrl = await startAuthorization();
    expect(consentUrl.pathname).toMatch(/^\/team\/consent\/[A-Za-z0-9_-]+$/);
    const page = await fetch(consentUrl, { headers: { cookie: 'signed-in=1' } });
    expect(page.status).toBe(200);
    const form = readConsentForm(await page.text());
    expect(form.action).toBe(consentUrl.pathname);
    const body = new URLSearchParams({ csrf: form.csrf, decision: 'allow' });
    for (const tool of form.checked) body.append('tools', tool);
    const posted = await fetch(new URL(form.action, origin), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: 'signed-in=1', 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(posted.status).toBe(303);
    const back = new URL(posted.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    expect(back.searchParams.get('code')).toMatch(/.{20,}/);
    expect(back.searchParams.get('state')).toBe('team-state');
  });

  it('sends a browser that is not signed in to the sign-in link it was given, back to the same consent page', async () => {
    const consentUrl = await startAuthorization();
    const page = await fetch(consentUrl, { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe(
      `/team/sign-in?next=${encodeURIComponent(consentUrl.pathname)}`,
    );
  });
});
