import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page, Route } from 'playwright-core';
import type { RunningGraph } from '../../main/demo/graph/index.ts';

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

/** A pass-through in front of the Graph stand-in that keeps the bearer token of each request. */
export interface GraphTap {
  url: string;
  /** The bearer tokens Graph was sent, oldest first. */
  tokens: string[];
  close(): Promise<void>;
}

/**
 * Starts a loopback proxy to `graph` that records what the server sends Graph as its bearer
 * token, so a test can check whose token it is (the stand-in keeps only who it speaks for).
 */
export async function startGraphTap(graph: RunningGraph): Promise<GraphTap> {
  const target = new URL(graph.url);
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('Bearer ')) tokens.push(auth.slice('Bearer '.length));
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname.replace(/\/+$/, '')}`,
    tokens,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
