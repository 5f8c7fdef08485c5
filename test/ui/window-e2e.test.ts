import { copyFile, mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGraph } from '../../main/demo/graph/index.ts';
import { DEMO_USERS, type IdpUser, type RunningIdp } from '../../main/demo/idp/index.ts';
import { idpEnv } from '../support/auth.ts';
import { launchBrowser, newUserContext, signInAtIdp } from '../support/browser.ts';
import { cliEnv, runCli, spawnCli, type CliProcess } from '../support/cli.ts';
import { startTestIdp } from '../support/idp.ts';
import { startKeyring, type Keyring } from '../support/keyring.ts';
import { connectClient, startGraphFor } from '../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const root = fileURLToPath(new URL('../..', import.meta.url));
// Screenshots go to the ignored test-results/; the README's picture changes only on purpose.
const shots = join(root, 'test-results', 'screenshots');
const readmeShot = join(root, 'test', 'ui', 'screenshots', 'status.png');
const updateReadmeShot = process.env.VALET_UPDATE_README_SCREENSHOT === '1';
let readmeShotMtime: number;
let env: NodeJS.ProcessEnv;
let idp: RunningIdp;
let graph: RunningGraph;
let browser: Browser;
let serve: CliProcess;
let uiUrl: string;
let keyring: Keyring;

beforeAll(async () => {
  [idp, browser, keyring] = await Promise.all([startTestIdp(), launchBrowser(), startKeyring()]);
  graph = await startGraphFor(idp);
  const dataDir = await mkdtemp(join(tmpdir(), 'valet-window-'));
  // The tokens are kept in a real (unlocked) Secret Service keyring, as on a desktop.
  env = cliEnv({
    ...idpEnv(idp, dataDir, { VALET_GRAPH_URL: graph.url, VALET_PORT: '0' }),
    ...keyring.env,
  });
  serve = spawnCli(['serve', '--ui', '--json'], env);
  uiUrl = String((await serve.nextEvent('ready', 60_000)).ui_url);
  await mkdir(shots, { recursive: true });
  readmeShotMtime = (await stat(readmeShot)).mtimeMs;
});
afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await browser?.close();
  await graph?.close();
  await idp?.close();
  await keyring?.stop();
});

async function view(page: Page, name: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Views' })
    .getByRole('button', { name: new RegExp(`^${name}`) })
    .click();
  await expect
    .poll(() => page.getByRole('heading', { level: 1, name }).isVisible(), { timeout: 10_000 })
    .toBe(true);
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const sent = () =>
  graph.requests.filter((r) => r.path === '/v1.0/me/sendMail' && r.status === 202).length;

describe('the window, end to end in Chromium against serve --ui', () => {
  it('signs in, connects a client, shows its activity, takes approvals, revokes and signs out', async () => {
    const context = await newUserContext(browser);
    const page = await context.newPage();
    // The window's CSP refuses inline styles and scripts: nothing on its pages may need them.
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/^Refused to .*Content Security Policy/.test(message.text()))
        cspViolations.push(message.text());
    });
    await page.goto(uiUrl);
    // The link's one-use secret rides in the fragment; the page spends it and drops it from
    // the address. The session it got lives in this tab's sessionStorage, never in a cookie.
    const secret = new URLSearchParams(new URL(uiUrl).hash.slice(1)).get('link')!;
    expect(secret).toMatch(/^[\w-]{43}$/);
    await expect.poll(() => new URL(page.url()).hash, { timeout: 10_000 }).toBe('');
    expect(await page.content()).not.toContain(secret);
    expect(
      await page.evaluate(
        () =>
          JSON.stringify({ ...localStorage }) +
          JSON.stringify({ ...sessionStorage }) +
          document.cookie,
      ),
    ).not.toContain(secret);
    expect(await context.cookies(new URL(uiUrl).origin)).toEqual([]);

    // Sign in through the window, completing the IdP's pages in the same browser.
    await expect
      .poll(() => page.getByText('Nobody is signed in').isVisible(), { timeout: 10_000 })
      .toBe(true);
    const popup = context.waitForEvent('page');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await signInAtIdp(await popup, adele, { consent: true });
    await expect
      .poll(() => page.getByText(adele.username).first().isVisible(), { timeout: 15_000 })
      .toBe(true);
    await expect
      .poll(() => page.getByText(adele.name).first().isVisible(), { timeout: 10_000 })
      .toBe(true);
    // The tools need more permissions: grant them from the status view (incremental consent).
    const consent = context.waitForEvent('page');
    await page.getByRole('button', { name: /^Grant Mail\.Read/ }).click();
    await signInAtIdp(await consent, adele, { consent: true });
    await expect
      .poll(() => page.getByRole('button', { name: /^Grant / }).count(), { timeout: 10_000 })
      .toBe(0);
    await shot(page, 'status');
    // A reload keeps the session (sessionStorage), with no link.
    await page.reload();
    await expect
      .poll(() => page.getByText(adele.username).first().isVisible(), { timeout: 10_000 })
      .toBe(true);

    // A key for an external client, its secret shown once.
    await view(page, 'Clients');
    await page.getByLabel('Name').fill('e2e-client');
    await page.getByRole('checkbox', { name: /^send_mail|Send mail/ }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const secretText = (await page.locator('p.secret code').textContent()) ?? '';
    expect(secretText).toMatch(/^mvk_[0-9a-f]{12}_[\w-]{43}$/);
    await shot(page, 'clients');

    const endpoint = String(serve.events.find((e) => e.event === 'ready')!.url);
    const { client } = await connectClient(endpoint, secretText, 'E2E Client');

    // The call shows in Activity within a second.
    await view(page, 'Activity');
    await expect
      .poll(() => page.getByRole('table').getByText('get_user_details').count(), {
        timeout: 10_000,
      })
      .toBe(0);
    const called = Date.now();
    await client.callTool({ name: 'get_user_details', arguments: {} });
    await page
      .getByRole('table')
      .getByRole('cell', { name: 'get_user_details' })
      .first()
      .waitFor({ timeout: 1_000 });
    expect(Date.now() - called).toBeLessThan(1_000);
    // A few more calls, as a client at work makes them; the chart follows them.
    for (const name of ['list_messages', 'list_events', 'get_user_details'])
      await client.callTool({ name, arguments: {} });
    await expect
      .poll(() => page.getByRole('figure').locator('.chart-summary').textContent(), {
        timeout: 10_000,
      })
      .toMatch(/^4 calls: 4 allowed, 0 denied, 0 failed\. Latency p50 \d+ ms, p95 \d+ ms\.$/);
    expect(await page.getByRole('figure').locator('rect.bar-allowed').count()).toBeGreaterThan(0);
    await shot(page, 'activity');

    // The README's picture: a healthy app at a glance, in a window of a usual size.
    await view(page, 'Status');
    const glance = page.getByRole('list', { name: 'At a glance' });
    const tileText = (name: string) => glance.getByRole('listitem', { name }).textContent();
    await expect.poll(() => tileText('Token cache')).toMatch(/Good.*Protected by the OS keyring/);
    expect(await tileText('MCP endpoint')).toMatch(/Good.*Up: clients can connect/);
    expect(await tileText('Access token')).toMatch(/Good.*Lasts \d+ min/);
    expect(await tileText('Latest call')).toMatch(/get_user_details: allowed.*E2E Client/);
    await page.setViewportSize({ width: 1000, height: 700 });
    await page.screenshot({ path: join(shots, 'readme-status.png') });
    if (updateReadmeShot) await copyFile(join(shots, 'readme-status.png'), readmeShot);
    expect(cspViolations).toEqual([]);

    // send_mail waits for the user in the window: approve one, deny another.
    const before = sent();
    const first = client.callTool({
      name: 'send_mail',
      arguments: {
        to: ['alex@contoso.test'],
        subject: 'From the window test',
        body: 'Approve me.',
      },
    });
    await page.getByRole('button', { name: 'Review in Approvals' }).click();
    await expect
      .poll(() => page.getByText('From the window test').isVisible(), { timeout: 10_000 })
      .toBe(true);
    expect(sent()).toBe(before);
    await shot(page, 'approvals');
    await page.getByRole('button', { name: 'Approve once' }).click();
    expect((await first).isError).toBeFalsy();
    expect(sent()).toBe(before + 1);
    const second = client.callTool({
      name: 'send_mail',
      arguments: { to: ['alex@contoso.test'], subject: 'Deny this one', body: 'No.' },
    });
    await expect
      .poll(() => page.getByText('Deny this one').isVisible(), { timeout: 10_000 })
      .toBe(true);
    await page.getByRole('button', { name: 'Deny' }).click();
    expect(JSON.stringify((await second).content)).toContain('The user denied send_mail');
    expect(sent()).toBe(before + 1);

    for (const name of ['Accounts', 'Tools and policy']) {
      await view(page, name);
      await shot(page, name.toLowerCase().replace(/ /g, '-'));
    }

    // Revoking the key locks the client out.
    await view(page, 'Clients');
    await page.getByRole('button', { name: 'Revoke e2e-client' }).click();
    await page.getByRole('button', { name: 'Revoke key' }).click();
    await page
      .getByRole('row', { name: /e2e-client/ })
      .getByText(/^Revoked/)
      .waitFor();
    await expect(client.callTool({ name: 'get_user_details', arguments: {} })).rejects.toThrow(
      /401|revoked/,
    );

    // Signing out shows the signed-out status.
    await view(page, 'Status');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect
      .poll(() => page.getByText('Nobody is signed in').isVisible(), { timeout: 10_000 })
      .toBe(true);
    await context.close();
  });

  it('turns away a browser without a link or with a spent one, and pages from other origins', async () => {
    const origin = new URL(uiUrl).origin;
    const stranger = await newUserContext(browser);
    const page = await stranger.newPage();
    // The page itself holds no secret; without a session it says how to get one.
    const response = await page.goto(origin);
    expect(response?.status()).toBe(200);
    await expect
      .poll(() => page.getByRole('alert').first().textContent(), { timeout: 10_000 })
      .toBe('This page needs a link to open MCP Valet: run `mcp-valet ui` for a new one');
    const cross = await page.evaluate(
      async (o) =>
        (
          await fetch(`${o}/api/getStatus`, {
            method: 'POST',
            body: '{}',
            headers: { 'content-type': 'application/json' },
          })
        ).status,
      origin,
    );
    expect(cross).toBe(401);
    // The link the run printed was spent by the first test: a second use is refused.
    const spent = await stranger.newPage();
    await spent.goto(uiUrl);
    await expect
      .poll(() => spent.getByRole('alert').first().textContent(), { timeout: 10_000 })
      .toBe(
        'This link to MCP Valet was already used (a link opens the window once): run `mcp-valet ui` for a new link',
      );
    await stranger.close();

    // A new link from `mcp-valet ui` opens a session; that session from another origin: 403.
    const fresh = await runCli(['ui', '--no-open', '--json'], env);
    expect(fresh.code).toBe(0);
    const link = String(fresh.events[0]!.url);
    const user = await newUserContext(browser);
    const window = await user.newPage();
    await window.goto(link);
    await expect
      .poll(() => window.getByText('Nobody is signed in').isVisible(), { timeout: 10_000 })
      .toBe(true);
    const token = await window.evaluate(() => sessionStorage.getItem('mcp-valet-session'));
    expect(token).toMatch(/^[\w-]{43}$/);
    await user.close();
    const call = (from: string) =>
      fetch(`${origin}/api/getStatus`, {
        method: 'POST',
        headers: {
          origin: from,
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
        },
        body: '{}',
      });
    expect((await call(origin)).status).toBe(200);
    expect((await call('https://evil.example')).status).toBe(403);
  });

  it(`leaves the README's screenshot as it is${updateReadmeShot ? ' (VALET_UPDATE_README_SCREENSHOT=1: updates it)' : ''}`, async () => {
    const now = (await stat(readmeShot)).mtimeMs;
    if (updateReadmeShot) expect(now).toBeGreaterThan(readmeShotMtime);
    else expect(now).toBe(readmeShotMtime);
  });
});
