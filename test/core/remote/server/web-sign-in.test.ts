import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../../../main/demo/idp/index.ts';
import { sha256Hex } from '../../../../main/core/remote/web/secrets.ts';
import { launchBrowser, newUserContext, signInAtIdp } from '../../../support/browser.ts';
import { startTestIdp } from '../../../support/idp.ts';
import {
  JWT_SHAPE,
  freePort,
  REMOTE_CLIENT_ID,
  REMOTE_CLIENT_SECRET,
  remoteWebApp,
  ResponseLog,
  rawRequest,
  startTestRemote,
  tempDir,
  type TestRemote,
} from '../../../support/remote-server.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const SESSION_COOKIE = '__Host-mv_web';

describe('Web sign-in at the remote server: real MSAL, the demo IdP and Chromium', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let idp: RunningIdp;
  let remote: TestRemote;
  let browser: Browser;
  const seen = new ResponseLog();
  /** Every URL this process fetched (MSAL and the server both use the global fetch). */
  const fetched: string[] = [];
  const realFetch = globalThis.fetch;
  const contexts: BrowserContext[] = [];

  /** A fresh browser for one user, whose answers from the server are kept for the token scan. */
  async function newBrowser(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await newUserContext(browser);
    contexts.push(context);
    // Nothing may leave the machine: a page sent to another site is stopped here.
    await context.route(
      (url) => url.hostname !== 'localhost' && url.hostname !== '127.0.0.1',
      (route) => route.abort('blockedbyclient'),
    );
    const page = await context.newPage();
    page.on('response', (response) => {
      if (!response.url().startsWith(remote.publicUrl)) return;
      void (async () => {
        const headers = await response.allHeaders();
        const body = await response.text().catch(() => '');
        seen.add({ headers, body });
      })();
    });
    return { context, page };
  }

  /** Signs `user` in from the server's home page; resolves to the callback URL the IdP sent. */
  async function signInFromHome(page: Page, user: IdpUser): Promise<string> {
    let callbackUrl = '';
    const onRequest = (request: { url(): string }) => {
      if (request.url().startsWith(`${remote.publicUrl}/auth/callback`))
        callbackUrl = request.url();
    };
    page.on('request', onRequest);
    await page.goto(`${remote.publicUrl}/`);
    await page.locator('#sign-in').click();
    await signInAtIdp(page, user);
    page.off('request', onRequest);
    return callbackUrl;
  }

  async function sessionCookie(context: BrowserContext) {
    const cookies = await context.cookies(remote.publicUrl);
    return cookies.find((c) => c.name === SESSION_COOKIE);
  }

  beforeAll(async () => {
    globalThis.fetch = (input, init) => {
      fetched.push(input instanceof Request ? input.url : String(input));
      return realFetch(input, init);
    };
    dir = await tempDir();
    const port = await freePort();
    [idp, browser] = await Promise.all([
      startTestIdp({
        confidentialClients: [remoteWebApp(port)],
      }),
      launchBrowser(),
    ]);
    remote = await startTestRemote(
      {
        VALET_CLIENT_ID: REMOTE_CLIENT_ID,
        VALET_AUTHORITY: idp.authority,
        VALET_CLIENT_SECRET: REMOTE_CLIENT_SECRET,
      },
      { dir: dir.dir, https: true, port },
    );
  });

  afterAll(async () => {
    globalThis.fetch = realFetch;
    for (const context of contexts) await context.close();
    await browser?.close();
    await remote?.close();
    await idp?.close();
    await dir?.remove();
  });

  it('signs a user in through the IdP and the home page says who, with a session in the store holding the ID token claims', async () => {
    const { context, page } = await newBrowser();
    await signInFromHome(page, adele);
    expect(page.url()).toBe(`${remote.publicUrl}/`);
    await expect
      .poll(() => page.getByRole('status').innerText())
      .toBe('Signed in as Adele Vance (adele@contoso.test)');

    const cookie = await sessionCookie(context);
    expect(cookie).toBeDefined();
    const session = await remote.server.store.hGetAll(`web:${sha256Hex(cookie?.value ?? '')}`);
    expect(session).toMatchObject({
      oid: adele.id,
      tid: idp.tenantId,
      homeAccountId: `${adele.id}.${idp.tenantId}`,
      name: 'Adele Vance',
      username: 'adele@contoso.test',
      roles: JSON.stringify(['Valet.Mail.Send']),
    });
    expect(session.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const ttl = await remote.server.store.ttl(`web:${sha256Hex(cookie?.value ?? '')}`);
    expect(ttl).toBeGreaterThan(7.9 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(8 * 3_600_000);
    // MSAL's cache for the user is in the store, sealed: no token readable there.
    const partition = await remote.server.store.get(`msal:u:${adele.id}.${idp.tenantId}`);
    expect(partition).not.toBeNull();
    expect(partition).not.toMatch(JWT_SHAPE);
  });

  it('sets the session cookie as __Host-mv_web: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, until the browser closes', async () => {
    const { page } = await newBrowser();
    const setCookies: string[] = [];
    page.on('response', async (response) => {
      if (!response.url().startsWith(`${remote.publicUrl}/auth/callback`)) return;
      setCookies.push(...((await response.headerValue('set-cookie')) ?? '').split('\n'));
    });
    await signInFromHome(page, alex);
    const line = setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
    expect(line).toMatch(
      /^__Host-mv_web=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    const cookie = await sessionCookie(page.context());
    expect(cookie).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
      path: '/',
      expires: -1,
    });
  });

  it('refuses a callback replayed with a state already used, and the session stays the first one', async () => {
    const { context, page } = await newBrowser();
    const callbackUrl = await signInFromHome(page, adele);
    expect(callbackUrl).toContain('state=');
    const before = await sessionCookie(context);
    const replay = await page.goto(callbackUrl);
    expect(replay?.status()).toBe(400);
    expect(await page.getByRole('alert').innerText()).toBe(
      'This sign-in was already completed, or it took too long. Start again.',
    );
    expect((await sessionCookie(context))?.value).toBe(before?.value);
  });

  it("refuses with 403 a callback carrying another browser's real code and state, and signs nobody in", async () => {
    const attacker = await newBrowser();
    await signInFromHome(attacker.page, alex);
    // A second sign-in of that browser, its redirects followed by hand: the IdP's answer, with a
    // real code and state, stops short of the server, as an attacker would send it on.
    let url = `${remote.publicUrl}/auth/login`;
    for (let hop = 0; hop < 10 && !url.startsWith(`${remote.publicUrl}/auth/callback`); hop++) {
      const response = await attacker.context.request.get(url, { maxRedirects: 0 });
      const location = response.headers().location;
      if (!location) throw new Error(`${url} answered ${response.status()} without a redirect`);
      url = new URL(location, url).href;
    }
    expect(url).toMatch(/[?&]code=[^&]+/);
    expect(url).toMatch(/[?&]state=[A-Za-z0-9_-]{43}(&|$)/);

    const victim = await newBrowser();
    // The victim has a sign-in of its own in flight, so a binding cookie of its own.
    await victim.page.goto(`${remote.publicUrl}/auth/login`);
    const response = await victim.page.goto(url);
    expect(response?.status()).toBe(403);
    expect(await victim.page.getByRole('alert').innerText()).toBe(
      'This sign-in was started in another browser. Start again here.',
    );
    expect(await sessionCookie(victim.context)).toBeUndefined();
    // Refused once, the state is spent: the browser that started it cannot finish it either.
    const late = await attacker.page.goto(url);
    expect(late?.status()).toBe(400);
  });

  it('ignores a returnTo that leaves the site (//evil.example, https://evil.example, /\\evil.example) and honours a same-origin path', async () => {
    const { page } = await newBrowser();
    await signInFromHome(page, alex);
    for (const forged of ['//evil.example', 'https://evil.example/', '/\\evil.example']) {
      await page.goto(`${remote.publicUrl}/auth/login?returnTo=${encodeURIComponent(forged)}`);
      await signInAtIdp(page, alex);
      expect(page.url(), forged).toBe(`${remote.publicUrl}/`);
    }
    await page.goto(`${remote.publicUrl}/auth/login?returnTo=${encodeURIComponent('/?from=test')}`);
    await signInAtIdp(page, alex);
    expect(page.url()).toBe(`${remote.publicUrl}/?from=test`);
  });

  it('refuses a sign-out without the CSRF token with 403, keeping the session; the page form signs out and removes the session from the store', async () => {
    const { context, page } = await newBrowser();
    await signInFromHome(page, adele);
    const cookie = await sessionCookie(context);
    const key = `web:${sha256Hex(cookie?.value ?? '')}`;

    for (const form of [{}, { csrf: 'not-the-token' }] as Array<Record<string, string>>) {
      const refused = await page.request.post(`${remote.publicUrl}/auth/logout`, {
        form,
        headers: { origin: remote.publicUrl },
        maxRedirects: 0,
      });
      seen.add({ headers: refused.headers(), body: await refused.text() });
      expect(refused.status(), JSON.stringify(form)).toBe(403);
    }
    expect(await remote.server.store.hGet(key, 'oid')).toBe(adele.id);

    await page.goto(`${remote.publicUrl}/`);
    const loaded = page.waitForEvent('load');
    await page.locator('#sign-out').click();
    await loaded;
    expect(page.url()).toBe(`${remote.publicUrl}/`);
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
    expect(await remote.server.store.hGetAll(key)).toEqual({});
    expect(await sessionCookie(context)).toBeUndefined();
    // The cookie a browser kept would not sign anyone in either.
    const stale = await rawRequest(`${remote.publicUrl}/`, {
      headers: { cookie: `${SESSION_COOKIE}=${cookie?.value ?? ''}` },
    });
    seen.add(stale);
    expect(stale.body).not.toContain('Signed in as');
  });

  it('asked the authority for its metadata once, at start, and for no instance discovery', () => {
    const discovery = fetched.filter(
      (u) => u.includes('openid-configuration') || u.includes('discovery/instance'),
    );
    expect(discovery).toEqual([`${idp.authority}/v2.0/.well-known/openid-configuration`]);
    // Every sign-in redeemed its code at the token endpoint: the sign-ins did happen.
    expect(fetched.filter((u) => u.includes('/oauth2/v2.0/token')).length).toBeGreaterThanOrEqual(
      6,
    );
  });

  it('sent no Entra token to any browser, and logged none', async () => {
    for (const line of remote.logger.lines) seen.addText(line);
    await expect.poll(() => seen.size).toBeGreaterThan(30);
    expect(seen.withTokens()).toEqual([]);
  });
});
