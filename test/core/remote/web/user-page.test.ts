import { randomBytes } from 'node:crypto';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKeyOf } from '../../../../main/core/remote/cache-keys.ts';
import { StoreApprovals } from '../../../../main/core/remote/approvals/store-approvals.ts';
import { RemoteKeys, type RemoteKey } from '../../../../main/core/remote/oauth/remote-keys.ts';
import type { RunningGraph } from '../../../../main/demo/graph/index.ts';
import { DEMO_USERS } from '../../../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../../../main/demo/idp/index.ts';
import { sendMailApproval } from '../../../support/approval-request.ts';
import { launchBrowser, newUserContext, signInAtIdp } from '../../../support/browser.ts';
import { startTestIdp } from '../../../support/idp.ts';
import {
  catchRedirects,
  signInToConsent,
  type RedirectCatcher,
} from '../../../support/remote-mcp.ts';
import {
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
import { TestOAuthClient } from '../../../support/valet-auth-harness.ts';
import { ALL_TOOL_SCOPES, startGraphFor } from '../../../support/valet.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
/** A user the directory gives the app role Valet.Admin. */
const megan: IdpUser = {
  id: '5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d',
  username: 'megan@contoso.test',
  name: 'Megan Bowen',
  password: 'megan-demo-password',
  roles: ['Valet.Admin'],
};
const CACHE_KEY = randomBytes(32);

describe("The user's page at <public>/: clients with revoke, pending approvals and activity, and every user's for admins", () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let idp: RunningIdp;
  let graph: RunningGraph;
  let remote: TestRemote;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let adelePage: Page;
  let redirects: RedirectCatcher;
  let client: TestOAuthClient;
  let mcpUrl: string;
  /** A key of Alex's, made on another instance, with a name meant to break the page. */
  let alexKey: RemoteKey;
  const seen = new ResponseLog();

  async function newPage(): Promise<Page> {
    const context = await newUserContext(browser);
    contexts.push(context);
    await context.route(
      (url) => url.hostname !== 'localhost' && url.hostname !== '127.0.0.1',
      (route) => route.abort('blockedbyclient'),
    );
    const page = await context.newPage();
    page.on('response', (response) => {
      if (!response.url().startsWith(remote.publicUrl)) return;
      void (async () => {
        seen.add({
          headers: await response.allHeaders(),
          body: await response.text().catch(() => ''),
        });
      })();
    });
    return page;
  }

  /** Signs `user` in from the page's sign-in link and waits for their page. */
  async function signIn(page: Page, user: IdpUser): Promise<void> {
    await page.goto(`${remote.publicUrl}/`);
    await page.locator('#sign-in').click();
    await signInAtIdp(page, user);
    await expect.poll(() => page.getByRole('status').innerText()).toContain(user.username);
  }

  /** A raw JSON-RPC POST to /mcp with a bearer token. */
  async function post(token: string, body: unknown) {
    const response = await rawRequest(mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify(body),
    });
    seen.add(response);
    return response;
  }

  /** The text of each cell of the row of key `id` on the page. */
  function rowOf(page: Page, id: string): Promise<string[]> {
    return page.locator(`#clients tr[data-key-id="${id}"] td`).allInnerTexts();
  }

  beforeAll(async () => {
    dir = await tempDir();
    const port = await freePort();
    [idp, browser] = await Promise.all([
      startTestIdp({
        users: [...DEMO_USERS, megan],
        confidentialClients: [remoteWebApp(port, { adminConsented: ALL_TOOL_SCOPES })],
      }),
      launchBrowser(),
    ]);
    graph = await startGraphFor(idp);
    remote = await startTestRemote(
      {
        VALET_CLIENT_ID: REMOTE_CLIENT_ID,
        VALET_AUTHORITY: idp.authority,
        VALET_CLIENT_SECRET: REMOTE_CLIENT_SECRET,
        VALET_GRAPH_URL: graph.url,
        VALET_DATA_DIR: dir.dir,
        VALET_CACHE_KEY: CACHE_KEY.toString('base64'),
        VALET_ADMINS: alex.id,
      },
      { dir: dir.dir, https: true, port },
    );
    mcpUrl = `${remote.publicUrl}/mcp`;
    adelePage = await newPage();
    redirects = await catchRedirects(adelePage);

    // Adele's MCP client: registered, authorized in her browser, and one call made.
    client = new TestOAuthClient({ redirectUrl: redirects.redirectUri, name: 'Test MCP client' });
    const options = { serverUrl: mcpUrl };
    expect(await auth(client, options)).toBe('REDIRECT');
    await adelePage.goto(String(client.authorizationUrl));
    await signInToConsent(adelePage, adele);
    await adelePage.locator('button#allow').click();
    const code = (await redirects.next()).searchParams.get('code') ?? '';
    expect(await auth(client, { ...options, authorizationCode: code })).toBe('AUTHORIZED');
    const mcp = new Client({ name: 'e2e', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: client }));
    try {
      const me = await mcp.callTool({ name: 'get_user_details', arguments: {} });
      expect(me.isError, JSON.stringify(me.content)).toBeFalsy();
    } finally {
      await mcp.close();
    }

    alexKey = await new RemoteKeys(remote.server.store).create({
      name: '<img src=x onerror=alert(1)> Alex’s client',
      clientId: 'https://client.example/alex',
      oid: alex.id,
      tid: idp.tenantId,
      homeAccountId: `${alex.id}.${idp.tenantId}`,
      username: alex.username,
      tools: ['get_user_details', 'list_messages'],
      readOnly: true,
    });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await remote?.close();
    await graph?.close();
    await idp?.close();
    await dir?.remove();
  });

  it("shows the signed-in user's client with its name, client ID, tools, read-only, created and last used, never cached or framed", async () => {
    const response = await adelePage.goto(`${remote.publicUrl}/`);
    const headers = (await response?.allHeaders()) ?? {};
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const [key] = await new RemoteKeys(remote.server.store).list(adele.id);
    const row = await rowOf(adelePage, key?.id ?? '');
    expect(row.slice(0, 4)).toEqual([
      'Test MCP client',
      String(client.clientInformation()?.client_id),
      key?.tools.join(', '),
      'no',
    ]);
    expect(row[4]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(row[5]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(row[6]).toBe('Revoke');
    // Only her own: Alex's key is not on her page.
    expect(await adelePage.locator('#clients tr[data-key-id]').count()).toBe(1);
  });

  it("lists the user's recent tool calls of this instance with tool, outcome, time and client", async () => {
    await adelePage.goto(`${remote.publicUrl}/`);
    const rows = await adelePage.locator('#activity tbody tr').all();
    expect(rows).toHaveLength(1);
    const cells = await rows[0]?.locator('td').allInnerTexts();
    expect(cells?.[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(cells?.slice(1, 3)).toEqual(['get_user_details', 'allowed']);
    expect(cells?.[3]).toContain('Test MCP client');
  });

  it("lists the user's pending approvals, each linking to its approval page", async () => {
    const other = new StoreApprovals({
      store: remote.server.store,
      publicUrl: remote.publicUrl,
      cacheKeys: { current: cacheKeyOf(CACHE_KEY) },
      audit: async () => undefined,
    });
    const stop = new AbortController();
    const [key] = await new RemoteKeys(remote.server.store).list(adele.id);
    const waiting = other
      .requester({ oid: adele.id })
      .request(
        sendMailApproval({ id: key?.id ?? '', name: 'Test MCP client' }, adele.username),
        60_000,
        stop.signal,
        { args: { to: ['x@contoso.test'] }, waitingAt: () => undefined },
      );
    try {
      await expect.poll(async () => (await other.listFor(adele.id)).length).toBe(1);
      const [approval] = await other.listFor(adele.id);
      await adelePage.goto(`${remote.publicUrl}/`);
      const link = adelePage.locator(`#approvals li[data-approval-id="${approval?.id}"] a`);
      expect(await link.count()).toBe(1);
      expect(await link.innerText()).toBe('Send an email');
      await link.click();
      await adelePage.locator('button#approve').waitFor();
      expect(adelePage.url()).toBe(`${remote.publicUrl}/approvals/${approval?.id}`);
    } finally {
      stop.abort();
      await waiting.catch(() => undefined);
      await other.close();
    }
  });

  it("answers 403 to a plain user asking for another user's clients and activity, or revoking another user's key", async () => {
    const other = await adelePage.request.get(`${remote.publicUrl}/?user=${alex.id}`);
    expect(other.status()).toBe(403);
    expect(await other.text()).not.toContain(alexKey.clientId);
    await adelePage.goto(`${remote.publicUrl}/`);
    const field = adelePage.locator('#clients input[name="csrf"]');
    expect(await field.count()).toBe(1);
    const csrf = await field.inputValue();
    const revoke = await adelePage.request.post(`${remote.publicUrl}/keys/${alexKey.id}/revoke`, {
      form: { csrf },
      maxRedirects: 0,
    });
    expect(revoke.status()).toBe(403);
    expect((await new RemoteKeys(remote.server.store).get(alexKey.id))?.revokedAt).toBeUndefined();
  });

  it('refuses a revoke without the CSRF token with 403 and keeps the key', async () => {
    const [key] = await new RemoteKeys(remote.server.store).list(adele.id);
    const refused = await adelePage.request.post(`${remote.publicUrl}/keys/${key?.id}/revoke`, {
      form: { csrf: 'not-the-token' },
      maxRedirects: 0,
    });
    expect(refused.status()).toBe(403);
    const token = client.tokens()?.access_token ?? '';
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
    expect((await post(token, call)).status).toBe(200);
  });

  it("shows an admin by VALET_ADMINS every user's clients and activity, and one user's on asking", async () => {
    const page = await newPage();
    await signIn(page, alex);
    expect(await page.locator('#admin').isVisible()).toBe(true);
    const [key] = await new RemoteKeys(remote.server.store).list(adele.id);
    expect(await rowOf(page, key?.id ?? '')).toContain(adele.username);
    const activity = await page.locator('#activity tbody tr').allInnerTexts();
    expect(activity.some((r) => r.includes('get_user_details') && r.includes(adele.username))).toBe(
      true,
    );
    await page.getByRole('link', { name: adele.username }).click();
    expect(new URL(page.url()).searchParams.get('user')).toBe(adele.id);
    expect(await page.locator('#clients tr[data-key-id]').count()).toBe(1);
    expect(await page.locator('#activity tbody tr').count()).toBe(1);
  });

  it("lets an admin by the app role Valet.Admin see another user's key, its client's name escaped, and revoke it", async () => {
    const page = await newPage();
    await signIn(page, megan);
    await page.goto(`${remote.publicUrl}/?user=${alex.id}`);
    const row = await rowOf(page, alexKey.id);
    expect(row.slice(0, 4)).toEqual([
      alexKey.name,
      alexKey.clientId,
      alexKey.tools.join(', '),
      'yes',
    ]);
    expect(await page.locator('img').count()).toBe(0);
    const revoke = page.locator(`#clients tr[data-key-id="${alexKey.id}"] button`);
    expect(await revoke.count()).toBe(1);
    await revoke.click();
    await page.waitForURL(`${remote.publicUrl}/?user=${alex.id}`);
    expect((await rowOf(page, alexKey.id))[6]).toMatch(/^Revoked \d{4}-/);
    expect((await new RemoteKeys(remote.server.store).get(alexKey.id))?.revokedAt).toBeDefined();
  });

  it("revokes the user's own client from the page's button, and the client's next MCP call gets 401 at once", async () => {
    const token = client.tokens()?.access_token ?? '';
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
    expect((await post(token, call)).status).toBe(200);
    const [key] = await new RemoteKeys(remote.server.store).list(adele.id);
    await adelePage.goto(`${remote.publicUrl}/`);
    const revoke = adelePage.locator(`#clients tr[data-key-id="${key?.id}"] button`);
    expect(await revoke.count()).toBe(1);
    await revoke.click();
    await expect
      .poll(async () => (await rowOf(adelePage, key?.id ?? ''))[6])
      .toMatch(/^Revoked \d{4}-/);
    expect((await post(token, call)).status).toBe(401);
  });

  it('sent no Entra token to the browser or the client', () => {
    expect(seen.size).toBeGreaterThan(10);
    expect(seen.withTokens()).toEqual([]);
  });
});
