import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../../../main/demo/idp/index.ts';
import { launchBrowser, newUserContext, signInAtIdp } from '../../../support/browser.ts';
import { startTestIdp } from '../../../support/idp.ts';
import {
  freePort,
  REMOTE_CLIENT_ID,
  REMOTE_CLIENT_SECRET,
  remoteWebApp,
  rawRequest,
  startTestRemote,
  tempDir,
  type TestRemote,
} from '../../../support/remote-server.ts';

const [adele] = DEMO_USERS as [IdpUser];

describe("The user's page of a team server published under a path of its host (https://host/team)", () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let idp: RunningIdp;
  let remote: TestRemote;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  let publicUrl: string;
  /** Every answer the browser got, by URL. */
  const answers: Array<{ url: string; status: number }> = [];

  beforeAll(async () => {
    dir = await tempDir();
    const port = await freePort();
    origin = `https://localhost:${port}`;
    publicUrl = `${origin}/team`;
    [idp, browser] = await Promise.all([
      startTestIdp({
        confidentialClients: [
          { ...remoteWebApp(port), redirectUris: [`${publicUrl}/auth/callback`] },
        ],
      }),
      launchBrowser(),
    ]);
    remote = await startTestRemote(
      {
        VALET_PUBLIC_URL: publicUrl,
        VALET_CLIENT_ID: REMOTE_CLIENT_ID,
        VALET_AUTHORITY: idp.authority,
        VALET_CLIENT_SECRET: REMOTE_CLIENT_SECRET,
      },
      { dir: dir.dir, https: true, port },
    );
    context = await newUserContext(browser);
    await context.route(
      (url) => url.hostname !== 'localhost' && url.hostname !== '127.0.0.1',
      (route) => route.abort('blockedbyclient'),
    );
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('response', (r) => answers.push({ url: r.url(), status: r.status() }));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await remote?.close();
    await idp?.close();
    await dir?.remove();
  });

  it('signs in from <public>/ and loads the window, its assets and its API calls all under /team', async () => {
    expect(remote.config.publicUrl).toBe(publicUrl);
    await page.goto(`${publicUrl}/`);
    await page.locator('#sign-in').click();
    await signInAtIdp(page, adele);
    await expect
      .poll(() => page.getByRole('status').innerText())
      .toBe(`Signed in as ${adele.name} (${adele.username})`);
    expect(page.url()).toBe(`${publicUrl}/`);
    await page.getByText('No MCP client has been given access yet.').waitFor();
    const ours = answers.filter((a) => a.url.startsWith(origin));
    const assets = ours.filter((a) => a.url.startsWith(`${publicUrl}/assets/`));
    expect(assets.map((a) => a.url.split('.').pop()).sort()).toEqual(['css', 'js']);
    expect(ours.filter((a) => a.url.startsWith(`${publicUrl}/api/`)).length).toBeGreaterThan(1);
    // Nothing of the page was asked for outside /team, and nothing failed.
    expect(ours.filter((a) => !a.url.startsWith(`${publicUrl}/`))).toEqual([]);
    expect(ours.filter((a) => a.status >= 400)).toEqual([]);
    // Its MCP URL is the one under /team.
    await page.getByText(`${publicUrl}/mcp`).first().waitFor();
  });

  it('sends /team, without its slash, to /team/, where the relative asset paths resolve', async () => {
    const bare = await rawRequest(publicUrl);
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe('/team/');
  });

  it('signs out to the signed-out page at /team/', async () => {
    await page.goto(`${publicUrl}/`);
    const loaded = page.waitForEvent('load');
    await page.locator('#sign-out').click();
    await loaded;
    expect(page.url()).toBe(`${publicUrl}/`);
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
  });
});
