import { join } from 'node:path';
import type { Page, Route } from 'playwright-core';
import { DEFAULT_POLICY } from '../../main/core/policy/policy-schema.ts';
import type { SharedCoreSettings } from '../../main/core/remote/mcp/remote-core.ts';
import type { RunningGraph } from '../../main/demo/graph/index.ts';

/** The core settings of a remote server under test: its own data dir, and the Graph stand-in. */
export function coreSettingsFor(dataDir: string, graph: RunningGraph): SharedCoreSettings {
  return {
    dataDir,
    configFile: join(dataDir, 'config.json'),
    graphUrl: graph.url,
    policy: DEFAULT_POLICY,
    auditRetention: { maxMegabytes: 0, maxAgeDays: 0 },
  };
}

/** An MCP client's loopback redirect URI, answered in the browser without a server behind it. */
export interface RedirectCatcher {
  readonly redirectUri: string;
  /** The next redirect the browser was sent to, with its query. */
  next(): Promise<URL>;
}

/**
 * Plays an MCP client's loopback redirect URI in `page`'s context: the browser's request for it
 * is answered with a small page and its URL kept, as the client's own listener would.
 */
export async function catchRedirects(page: Page, port = 53682): Promise<RedirectCatcher> {
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const arrived: URL[] = [];
  const waiting: Array<(url: URL) => void> = [];
  await page.context().route(`${redirectUri}**`, async (route: Route) => {
    const url = new URL(route.request().url());
    const wake = waiting.shift();
    if (wake) wake(url);
    else arrived.push(url);
    await route.fulfill({
      contentType: 'text/html',
      body: '<p role="status">Back in the client.</p>',
    });
  });
  return {
    redirectUri,
    next: () => {
      const ready = arrived.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** The parameters of a `WWW-Authenticate: Bearer …` challenge. */
export function challengeParams(header: string | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  for (const m of (header ?? '').matchAll(/(\w+)="([^"]*)"/g)) params[m[1] ?? ''] = m[2] ?? '';
  return params;
}

/**
 * Signs `user` in at the IdP from wherever the server's sign-in sent `page` (accepting the
 * IdP's consent when it asks), and waits for the server's consent page to show.
 */
export async function signInToConsent(
  page: Page,
  user: { username: string; password: string },
): Promise<void> {
  const allow = page.locator('button#allow');
  const idpConsent = page.getByRole('heading', { name: 'Permissions requested' });
  const username = page.getByLabel('Username');
  await username.or(allow).or(idpConsent).first().waitFor();
  if (await username.isVisible()) {
    await username.fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await allow.or(idpConsent).first().waitFor();
  if (await idpConsent.isVisible()) await page.getByRole('button', { name: 'Accept' }).click();
  await allow.waitFor();
}
