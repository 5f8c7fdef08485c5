import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppApi } from '../../main/core/app/app-api.ts';
import { startWebBridge, type WebBridge } from '../../main/core/web/web-bridge.ts';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { launchBrowser, newUserContext } from '../support/browser.ts';
import { useValet } from '../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele);

/** One request the other loopback server received. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let browser: Browser;
let bridge: WebBridge;
let other: Server;
let otherOrigin: string;
const seen: Seen[] = [];

/**
 * A page on another loopback port: what a local dev server, or anything a user browses to on
 * 127.0.0.1, would be. It records every request it gets, and its page tries the window's API.
 */
function attackerPage(ui: string): string {
  const payload = JSON.stringify({ name: 'csrf', tools: ['send_mail'], readOnly: false });
  // A text/plain form whose body parses as JSON: the classic CSRF against a JSON API.
  const name = payload.slice(0, -1) + ',"x":"';
  return `<!doctype html><title>other</title>
<img src="/pixel.png" alt="">
<form id="csrf" method="POST" action="${ui}/api/createKey" enctype="text/plain">
<input type="hidden" name='${name}' value='"}'></form>`;
}

async function startOther(): Promise<void> {
  other = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/pixel.png' || req.url === '/probe') {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(attackerPage(bridge.origin));
      }
    });
  });
  await new Promise<void>((ok) => other.listen(0, '127.0.0.1', () => ok()));
  otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  browser = await launchBrowser();
  bridge = await startWebBridge(createAppApi(fx.valet.core, { shell: 'browser' }));
  await startOther();
});
afterAll(async () => {
  await browser?.close();
  await bridge?.close();
  await new Promise<void>((ok) => (other ? other.close(() => ok()) : ok()));
});

/** Waits until the window shows the signed-in user, or fails at once with what it shows instead. */
async function signedInWindow(page: Page): Promise<void> {
  const user = page.getByText(adele.username).first();
  const alert = page.getByRole('alert').first();
  await user.or(alert).waitFor({ timeout: 10_000 });
  if (!(await user.isVisible())) throw new Error(`The window shows: ${await alert.innerText()}`);
}

/** Opens the window with a new link, as `mcp-valet ui` gives one. */
async function openWindow(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(bridge.newLink().url);
  await signedInWindow(page);
  return page;
}

/** Everything of the window's credential the browser holds: its cookies and stored values. */
async function uiCredentials(context: BrowserContext, page: Page): Promise<string[]> {
  const cookies = (await context.cookies(bridge.origin)).map((c) => c.value);
  const stored = await page.evaluate(() => [
    ...Object.values(sessionStorage),
    ...Object.values(localStorage),
  ]);
  return [...cookies, ...stored].filter((v) => v.length >= 16);
}

const keyNames = async () => (await fx.valet.core.keys.list()).map((k) => k.name).sort();

describe('the window in Chromium, against pages on other loopback ports', () => {
  it('sends no credential of the window to another port, and that page can neither create a key nor change anything', async () => {
    const context = await newUserContext(browser);
    const ui = await openWindow(context);
    // The link's one-use secret is off the address bar as soon as the page has read it.
    expect(new URL(ui.url()).hash).toBe('');
    const credentials = await uiCredentials(context, ui);
    expect(credentials.length).toBeGreaterThan(0);
    const keysBefore = await keyNames();

    // The user, in the same browser, visits a page served on another loopback port.
    const page = await context.newPage();
    await page.goto(otherOrigin);
    await page.locator('img').evaluate((img: HTMLImageElement) => img.decode().catch(() => {}));
    const attempts = await page.evaluate(async (target) => {
      const body = JSON.stringify({ name: 'no-cors', tools: ['send_mail'], readOnly: false });
      const tries = [
        fetch(`${target}/api/createKey`, { method: 'POST', mode: 'no-cors', body }),
        fetch(`${target}/api/createKey`, {
          method: 'POST',
          mode: 'no-cors',
          credentials: 'include',
          headers: { 'content-type': 'text/plain' },
          body,
        }),
        fetch(`${target}/api/signOut`, {
          method: 'POST',
          mode: 'no-cors',
          credentials: 'include',
          body: '{}',
        }),
        fetch(`${location.origin}/probe`, { credentials: 'include' }),
      ];
      return (await Promise.allSettled(tries)).length;
    }, bridge.origin);
    expect(attempts).toBe(4);
    // The CSRF form: a top-level POST, so the browser attaches whatever it would.
    await Promise.all([
      page.waitForEvent('load'),
      page.evaluate(() => (document.getElementById('csrf') as HTMLFormElement).submit()),
    ]);

    // The other port got its page, its image and its probe: none with anything of the window.
    expect(seen.map((s) => s.url)).toEqual(expect.arrayContaining(['/', '/pixel.png', '/probe']));
    for (const request of seen) {
      expect(request.headers.cookie, `${request.method} ${request.url}`).toBeUndefined();
      expect(request.headers.authorization, `${request.method} ${request.url}`).toBeUndefined();
      const raw = JSON.stringify(request);
      for (const credential of credentials) expect(raw).not.toContain(credential);
    }
    // Nothing changed: no key, and the user is still signed in.
    expect(await keyNames()).toEqual(keysBefore);
    expect((await fx.valet.core.auth.resolveAccount())?.username).toBe(adele.username);
    // The window still works for its user.
    await ui.reload();
    await signedInWindow(ui);
    await context.close();
  });

  it('gives a page on another port nothing to replay: what it received opens no API', async () => {
    const context = await newUserContext(browser);
    await openWindow(context);
    seen.length = 0;
    const page = await context.newPage();
    await page.goto(`${otherOrigin}/`);
    await page.goto(`${otherOrigin}/again`);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    // Whatever the other server got, sent on from outside a browser (no Origin to refuse).
    for (const request of seen) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (request.headers.cookie) headers.cookie = request.headers.cookie;
      if (request.headers.authorization) headers.authorization = request.headers.authorization;
      const res = await fetch(`${bridge.origin}/api/createKey`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'replayed', tools: ['send_mail'], readOnly: false }),
      });
      expect(res.status).toBe(401);
    }
    expect(await keyNames()).not.toContain('replayed');
    await context.close();
  });
});
