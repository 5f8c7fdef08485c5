import { request as httpRequest } from 'node:http';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newUserContext } from './browser.ts';
import { startRemoteCluster, type ClusterOptions, type RemoteCluster } from './remote-cluster.ts';
import { catchRedirects, signInToConsent, type RedirectCatcher } from './remote-mcp.ts';
import { rawRequest, type SeenResponse } from './remote-server.ts';
import { TestOAuthClient } from './valet-auth-harness.ts';

/** One user's browser: its own context (cookies), a page, and its MCP client's loopback redirect. */
export interface UserBrowser {
  context: BrowserContext;
  page: Page;
  redirects: RedirectCatcher;
}

/** Starts a cluster and a browser for its users at once; when either fails, the other is stopped. */
export async function startClusterWithBrowser(
  options: ClusterOptions = {},
): Promise<{ cluster: RemoteCluster; browser: Browser }> {
  const [cluster, browser] = await Promise.allSettled([
    startRemoteCluster(options),
    launchBrowser(),
  ]);
  if (cluster.status === 'fulfilled' && browser.status === 'fulfilled')
    return { cluster: cluster.value, browser: browser.value };
  if (cluster.status === 'fulfilled') await cluster.value.close();
  if (browser.status === 'fulfilled') await browser.value.close();
  throw cluster.status === 'rejected' ? cluster.reason : (browser as PromiseRejectedResult).reason;
}

/** How long a browser step may take before the test fails naming it. */
const BROWSER_STEP_MS = 10_000;

/**
 * Opens a browser context for one user that can reach nothing but this machine, whose steps
 * fail within seconds, naming what they waited for.
 */
export async function openUserBrowser(browser: Browser): Promise<UserBrowser> {
  const context = await newUserContext(browser);
  context.setDefaultTimeout(BROWSER_STEP_MS);
  await context.route(
    (url) => url.hostname !== 'localhost' && url.hostname !== '127.0.0.1',
    (route) => route.abort('blockedbyclient'),
  );
  const page = await context.newPage();
  return { context, page, redirects: await catchRedirects(page) };
}

/** A new MCP client (DCR, PKCE) whose redirects land in `user`'s browser. */
export function newOAuthClient(user: UserBrowser, name = 'Cluster client'): TestOAuthClient {
  return new TestOAuthClient({ redirectUrl: user.redirects.redirectUri, name });
}

/**
 * Authorizes `oauth` at the cluster as an MCP client does (the SDK's auth(): discovery, DCR,
 * PKCE), with `who` signing in at the IdP and allowing on the consent page in `user`'s
 * browser, and the code redeemed for tokens. Whichever instance the proxy picks serves each step.
 */
export async function authorizeInBrowser(
  cluster: RemoteCluster,
  user: UserBrowser,
  who: { username: string; password: string },
  oauth: TestOAuthClient,
  scope?: string,
): Promise<void> {
  const options = { serverUrl: cluster.mcpUrl, ...(scope ? { scope } : {}) };
  const started = await auth(oauth, options);
  if (started !== 'REDIRECT') throw new Error(`auth() did not ask for a redirect: ${started}`);
  await user.page.goto(String(oauth.authorizationUrl));
  await signInToConsent(user.page, who);
  await user.page.locator('button#allow').click();
  const back = await within(user.redirects.next(), BROWSER_STEP_MS, "the client's redirect");
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`The consent sent no code back: ${back.href}`);
  const done = await auth(oauth, { ...options, authorizationCode: code });
  if (done !== 'AUTHORIZED') throw new Error(`The code was not redeemed: ${done}`);
}

/** `promise`, or an error naming `what` once `ms` have passed. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`No ${what} within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

/** An SDK client connected to the cluster's public URL with `oauth`'s tokens. */
export async function connectClient(
  cluster: RemoteCluster,
  oauth: TestOAuthClient,
  capabilities: ClientCapabilities = {},
): Promise<Client> {
  const client = new Client({ name: 'cluster-test', version: '1.0.0' }, { capabilities });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(cluster.mcpUrl), { authProvider: oauth }),
  );
  return client;
}

/** The access token an authorized client holds. */
export function accessTokenOf(oauth: TestOAuthClient): string {
  const token = oauth.tokens()?.access_token;
  if (!token) throw new Error('The client holds no access token: authorize it first');
  return token;
}

/**
 * A JSON-RPC request to `/mcp` with a bearer token: straight to the instance `via` names, or
 * through the proxy when `via` is `proxy`.
 */
export function postMcp(
  cluster: RemoteCluster,
  via: string,
  token: string,
  message: Record<string, unknown>,
): Promise<SeenResponse> {
  const init = {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, ...message }),
  };
  return via === 'proxy' ? rawRequest(cluster.mcpUrl, init) : cluster.direct(via, '/mcp', init);
}

/** A `tools/call` message. */
export function toolCall(
  name: string,
  args: Record<string, unknown> = {},
): Record<string, unknown> {
  return { method: 'tools/call', params: { name, arguments: args } };
}

/** The JSON-RPC answer in an MCP response, whether it came as JSON or as the SSE stream's data. */
export function rpcResult(response: { body: string }): {
  result?: { isError?: boolean; content?: unknown; structuredContent?: unknown };
  error?: { code: number; message: string };
} {
  const data = response.body
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice('data: '.length))
    .at(-1);
  return JSON.parse(data ?? response.body) as ReturnType<typeof rpcResult>;
}

/** One request of a burst as its client saw it: when it went, when the whole answer came, and what. */
export interface BurstCall {
  sentAt: number;
  receivedAt: number;
  status: number;
  body: string;
}

/**
 * Posts `message` to the cluster's public `/mcp` over a connection of its own and reads the whole
 * answer. Rejects when the answer does not arrive whole (a backend killed mid-answer), or when
 * none has come within `timeoutMs`: a call the client never received.
 */
export function postThroughProxy(
  cluster: RemoteCluster,
  token: string,
  message: Record<string, unknown>,
  timeoutMs = 15_000,
): Promise<BurstCall> {
  const target = new URL(cluster.mcpUrl);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, ...message });
  return new Promise((resolve, reject) => {
    const sentAt = Date.now();
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent: false,
        timeout: timeoutMs,
        headers: {
          host: target.host,
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.once('error', reject);
        res.once('close', () => {
          if (!res.complete) reject(new Error('The answer was cut off'));
        });
        res.once('end', () =>
          resolve({ sentAt, receivedAt: Date.now(), status: res.statusCode ?? 0, body: text }),
        );
      },
    );
    req.once('timeout', () => req.destroy(new Error(`No answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end(body);
  });
}
