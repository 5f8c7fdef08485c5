import { randomBytes } from 'node:crypto';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyDto, StatusDto } from '../../../../preload/contract.ts';
import { readAuditNewestFirst } from '../../../../main/core/audit/audit-newest-first.ts';
import { cacheKeyOf } from '../../../../main/core/remote/cache-keys.ts';
import { StoreApprovals } from '../../../../main/core/remote/approvals/store-approvals.ts';
import { RemoteKeys, type RemoteKey } from '../../../../main/core/remote/oauth/remote-keys.ts';
import type { ApprovalOutcome } from '../../../../main/core/approvals/approval-service.ts';
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

/** An API answer as the page's bridge gets it. */
interface ApiAnswer {
  status: number;
  body: { result?: unknown; error?: { code: string; message: string } };
}

describe("The user's page at <public>/: the React window in team-server mode, over the AppApi with the web session and its CSRF token", () => {
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
  /** Approvals asked by calls waiting elsewhere, as another instance asks them. */
  let elsewhere: StoreApprovals;
  const seen = new ResponseLog();

  async function newPage(): Promise<Page> {
    const context = await newUserContext(browser);
    contexts.push(context);
    await context.route(
      (url) => url.hostname !== 'localhost' && url.hostname !== '127.0.0.1',
      (route) => route.abort('blockedbyclient'),
    );
    const page = await context.newPage();
    // A missing element fails the test in seconds, not at its timeout.
    page.setDefaultTimeout(10_000);
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

  /** Signs `user` in from the signed-out page's link and waits for the React page to say who. */
  async function signIn(page: Page, user: IdpUser): Promise<void> {
    await page.goto(`${remote.publicUrl}/`);
    await page.locator('#sign-in').click();
    await signInAtIdp(page, user);
    await expect.poll(() => page.getByRole('status').innerText()).toContain(user.username);
  }

  /** Opens one of the page's views from its navigation. */
  async function openView(page: Page, name: 'Clients' | 'Approvals' | 'Activity'): Promise<void> {
    await page
      .getByRole('navigation', { name: 'Views' })
      .getByRole('button', { name: new RegExp(`^${name}`) })
      .click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(name);
  }

  /** The cells of the clients table's row that names `name`, once it shows. */
  async function keyRow(page: Page, name: string): Promise<string[]> {
    const row = page.getByRole('row').filter({ hasText: name });
    await row.first().waitFor();
    // Text content, not rendered text: a tag's leading space stays as the markup has it.
    return row.first().locator('th, td').allTextContents();
  }

  /** The session's CSRF token, as the page reads it. */
  async function csrfOf(page: Page): Promise<string> {
    const response = await page.request.get(`${remote.publicUrl}/api/session`);
    const text = await response.text();
    seen.add({ headers: response.headers(), body: text });
    return String((JSON.parse(text) as { csrf?: unknown }).csrf ?? '');
  }

  /** An AppApi call with the page's cookies, and the CSRF header unless told otherwise. */
  async function callApi(
    page: Page,
    name: string,
    request: unknown,
    options: { csrf?: string | null; origin?: string } = {},
  ): Promise<ApiAnswer> {
    const csrf = options.csrf === undefined ? await csrfOf(page) : options.csrf;
    const response = await page.request.post(`${remote.publicUrl}/api/${name}`, {
      headers: {
        'content-type': 'application/json',
        ...(csrf === null ? {} : { 'x-csrf-token': csrf }),
        ...(options.origin ? { origin: options.origin } : {}),
      },
      data: JSON.stringify(request),
      maxRedirects: 0,
    });
    const text = await response.text();
    seen.add({ headers: response.headers(), body: text });
    return { status: response.status(), body: JSON.parse(text) as ApiAnswer['body'] };
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

  /** A send_mail call of `user` through `key` waiting for approval, as another instance asks it. */
  async function waitingApproval(
    user: IdpUser,
    key: { id: string; name: string },
    to: string,
  ): Promise<{ id: string; outcome: Promise<ApprovalOutcome | Error>; stop: () => void }> {
    const before = new Set((await elsewhere.listFor(user.id)).map((a) => a.id));
    const stop = new AbortController();
    const outcome = elsewhere
      .requester({ oid: user.id })
      // As a remote call names its client: the name it registered, and no version.
      .request(
        { ...sendMailApproval(key, user.username), client: { name: key.name, version: '' } },
        60_000,
        stop.signal,
        {
          args: { to: [to] },
          waitingAt: () => undefined,
        },
      )
      .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    let id: string | undefined;
    await expect
      .poll(async () => {
        id = (await elsewhere.listFor(user.id)).find((a) => !before.has(a.id))?.id;
        return id;
      })
      .toBeDefined();
    return { id: id ?? '', outcome, stop: () => stop.abort() };
  }

  async function adeleKey(): Promise<RemoteKey> {
    const [key] = await new RemoteKeys(remote.server.store).list(adele.id);
    if (!key) throw new Error('Adele has no key');
    return key;
  }

  /** A time as the page writes it: in the browser's own locale and zone. */
  function shownTime(page: Page, iso: string): Promise<string> {
    return page.evaluate((at) => new Date(at).toLocaleString(), iso);
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
    elsewhere = new StoreApprovals({
      store: remote.server.store,
      publicUrl: remote.publicUrl,
      cacheKeys: { current: cacheKeyOf(CACHE_KEY) },
      audit: async () => undefined,
    });
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
    await elsewhere?.close();
    await remote?.close();
    await graph?.close();
    await idp?.close();
    await dir?.remove();
  });

  it('serves a signed-in user the built React window marked as remote mode, with its own scripts and styles only, never cached or framed', async () => {
    const loaded: Array<{ url: string; status: number }> = [];
    const onResponse = (r: { url(): string; status(): number }) =>
      loaded.push({ url: r.url(), status: r.status() });
    adelePage.on('response', onResponse);
    const response = await adelePage.goto(`${remote.publicUrl}/`);
    // Loaded once it lists her client, which it asked the API for.
    await adelePage.getByRole('row').filter({ hasText: 'Test MCP client' }).waitFor();
    adelePage.off('response', onResponse);
    const headers = (await response?.allHeaders()) ?? {};
    expect(headers['cache-control']).toBe('no-store');
    const csp = headers['content-security-policy'] ?? '';
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ])
      expect(csp).toContain(directive);
    expect(csp).not.toContain('unsafe');
    const html = (await response?.text()) ?? '';
    expect(html).toContain('<meta name="mcp-valet-mode" content="remote">');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\.\/assets\/[^"]+\.js"/);
      expect(body?.trim()).toBe('');
    }
    // The window's script and stylesheet came from the server's assets, and its calls went to its API.
    const assets = loaded.filter((r) => r.url.startsWith(`${remote.publicUrl}/assets/`));
    expect(assets.map((r) => r.url.split('.').pop()).sort()).toEqual(['css', 'js']);
    expect(assets.every((r) => r.status === 200)).toBe(true);
    expect(loaded.some((r) => r.url === `${remote.publicUrl}/api/listKeys`)).toBe(true);
    expect(loaded.filter((r) => r.status >= 400)).toEqual([]);
  });

  it("shows the user's own client with its name, client ID, tools, read-only, created and last used, and nobody else's", async () => {
    await adelePage.goto(`${remote.publicUrl}/`);
    const key = await adeleKey();
    const row = await keyRow(adelePage, 'Test MCP client');
    expect(row).toEqual([
      'Test MCP client',
      String(client.clientInformation()?.client_id),
      key.tools.join(', '),
      await shownTime(adelePage, key.createdAt),
      await shownTime(adelePage, key.lastUsedAt ?? ''),
      'Active',
      'Revoke',
    ]);
    // Not read-only: no tag says so. Alex's key is not on her page, nor a User column.
    expect(row[0]).not.toContain('read-only');
    expect(await adelePage.getByRole('row').filter({ hasText: 'Alex’s client' }).count()).toBe(0);
    expect(await adelePage.getByRole('columnheader', { name: 'User' }).count()).toBe(0);
    expect(await adelePage.getByRole('button', { name: /create/i }).count()).toBe(0);
    expect(await adelePage.locator('#admin').count()).toBe(0);
  });

  it("lists the user's tool calls of this instance in Activity: time, client, tool and outcome", async () => {
    await adelePage.goto(`${remote.publicUrl}/`);
    await openView(adelePage, 'Activity');
    const table = adelePage.getByRole('table', { name: 'Activity, newest first' });
    await table.waitFor();
    const rows = await table.locator('tbody tr').all();
    expect(rows).toHaveLength(1);
    const cells = (await rows[0]?.locator('td').allInnerTexts()) ?? [];
    expect(cells[0]).toMatch(/\d/);
    expect(cells[1]).toContain('Test MCP client');
    expect(cells.slice(2, 4)).toEqual(['get_user_details', 'allowed']);
  });

  it('shows a new pending approval in Approvals without a reload, linking to its approval page', async () => {
    await adelePage.goto(`${remote.publicUrl}/`);
    await openView(adelePage, 'Approvals');
    await adelePage.getByText('Nothing is waiting for your approval.').waitFor();
    const documentStart = await adelePage.evaluate(() => performance.timeOrigin);
    const key = await adeleKey();
    const waiting = await waitingApproval(adele, key, 'first@contoso.test');
    try {
      const card = adelePage.getByRole('article', { name: 'Send an email (send_mail)' });
      await card.waitFor({ timeout: 10_000 });
      expect(await card.getByText('Asked by key').textContent()).toBe(
        `Asked by key ${key.name} from ${key.name}, acting as ${adele.username}.`,
      );
      expect(await adelePage.evaluate(() => performance.timeOrigin)).toBe(documentStart);
      expect(
        await adelePage.getByRole('button', { name: /^Approvals\b.*\b1 pending$/ }).count(),
      ).toBe(1);
      const link = card.getByRole('link', { name: 'Open its approval page' });
      expect(await link.getAttribute('href')).toBe(`/approvals/${waiting.id}`);
      await link.click();
      await adelePage.locator('button#approve').waitFor();
      expect(adelePage.url()).toBe(`${remote.publicUrl}/approvals/${waiting.id}`);
    } finally {
      waiting.stop();
      await waiting.outcome;
    }
  });

  it('decides a pending approval from its card on the page, and the waiting call goes ahead', async () => {
    const key = await adeleKey();
    const waiting = await waitingApproval(adele, key, 'second@contoso.test');
    try {
      await adelePage.goto(`${remote.publicUrl}/`);
      await openView(adelePage, 'Approvals');
      const card = adelePage.getByRole('article', { name: 'Send an email (send_mail)' });
      await card.getByRole('button', { name: 'Approve once' }).click();
      expect(await waiting.outcome).toBe('approved');
      await adelePage.getByText('Nothing is waiting for your approval.').waitFor();
    } finally {
      waiting.stop();
    }
  });

  it("answers 403 through the API to a plain user revoking another user's key or deciding another user's approval, and changes neither", async () => {
    const waiting = await waitingApproval(alex, alexKey, 'alex-friend@contoso.test');
    try {
      const revoke = await callApi(adelePage, 'revokeKey', { id: alexKey.id });
      expect(revoke.status).toBe(403);
      expect(revoke.body.error?.message).toMatch(/another user/);
      const decide = await callApi(adelePage, 'decideApproval', {
        id: waiting.id,
        decision: { kind: 'once' },
      });
      expect(decide.status).toBe(403);
      expect(JSON.stringify(decide.body)).not.toContain('alex-friend');
      expect(
        (await new RemoteKeys(remote.server.store).get(alexKey.id))?.revokedAt,
      ).toBeUndefined();
      expect((await elsewhere.get(waiting.id))?.status).toBe('pending');
      // Her own lists hold none of Alex's.
      const keys = await callApi(adelePage, 'listKeys', {});
      expect((keys.body.result as KeyDto[]).map((k) => k.id)).toEqual([(await adeleKey()).id]);
      const approvals = await callApi(adelePage, 'listApprovals', {});
      expect(approvals.body.result).toEqual([]);
    } finally {
      waiting.stop();
      await waiting.outcome;
    }
  });

  it('refuses a call without the CSRF header, with a wrong one, from another origin or without a session, and the key stays', async () => {
    const key = await adeleKey();
    const csrf = await csrfOf(adelePage);
    const missing = await callApi(adelePage, 'revokeKey', { id: key.id }, { csrf: null });
    expect(missing.status).toBe(403);
    expect(missing.body.error?.message).toMatch(/reload/i);
    const wrong = await callApi(adelePage, 'revokeKey', { id: key.id }, { csrf: `${csrf}x` });
    expect(wrong.status).toBe(403);
    const foreign = await callApi(
      adelePage,
      'revokeKey',
      { id: key.id },
      { csrf, origin: 'https://evil.example' },
    );
    expect(foreign.status).toBe(403);
    const anonymous = await rawRequest(`${remote.publicUrl}/api/revokeKey`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ id: key.id }),
    });
    seen.add(anonymous);
    expect(anonymous.status).toBe(401);
    expect((await new RemoteKeys(remote.server.store).get(key.id))?.revokedAt).toBeUndefined();
    const token = client.tokens()?.access_token ?? '';
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
    expect((await post(token, call)).status).toBe(200);
  });

  it("answers getStatus with the team server's status, refuses a malformed request by name, and says a desktop-only call is not available here", async () => {
    const status = await callApi(adelePage, 'getStatus', {});
    expect(status.status).toBe(200);
    const dto = status.body.result as StatusDto;
    expect(dto.account?.username).toBe(adele.username);
    expect(dto.account?.roles).toEqual(adele.roles ?? []);
    expect(dto.endpoint).toEqual({ url: mcpUrl, running: true });
    expect(dto.pendingApprovals).toBe(0);
    expect(dto.broker.reason).toMatch(/team server/);
    expect(dto.tokens).toEqual([]);
    const bad = await callApi(adelePage, 'revokeKey', { id: 12 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_request' });
    for (const name of ['createKey', 'signIn', 'setToolEnabled']) {
      const refused = await callApi(adelePage, name, {});
      expect(refused.status, name).toBe(404);
      expect(refused.body.error?.code).toBe('not_on_team_server');
      expect(refused.body.error?.message).toContain(`${name} is not available on a team server`);
    }
  });

  it("shows an admin by VALET_ADMINS every user's clients with whose each is, and every user's activity", async () => {
    const page = await newPage();
    await signIn(page, alex);
    expect(await page.locator('#admin').innerText()).toBe('Admin');
    const row = await keyRow(page, 'Test MCP client');
    expect(row[2]).toBe(adele.username);
    expect((await keyRow(page, 'Alex’s client'))[2]).toBe(alex.username);
    await openView(page, 'Activity');
    const table = page.getByRole('table', { name: 'Activity, newest first' });
    await table.waitFor();
    const activity = await table.locator('tbody tr').allInnerTexts();
    expect(activity.some((r) => r.includes('get_user_details') && r.includes(adele.username))).toBe(
      true,
    );
  });

  it("lets an admin by the app role Valet.Admin see another user's key, its client's name as text, and revoke it, audited as theirs", async () => {
    const page = await newPage();
    await signIn(page, megan);
    expect(await page.locator('#admin').isVisible()).toBe(true);
    const row = await keyRow(page, 'Alex’s client');
    expect(row.slice(0, 5)).toEqual([
      `${alexKey.name} read-only`,
      alexKey.clientId,
      alex.username,
      alexKey.tools.join(', '),
      await shownTime(page, alexKey.createdAt),
    ]);
    expect(row[5]).toBe('Never');
    // The name's markup stayed text: nothing was made of it.
    expect(await page.locator('img').count()).toBe(0);
    await page.getByRole('button', { name: `Revoke ${alexKey.name}` }).click();
    await page.getByRole('button', { name: 'Revoke key' }).click();
    await expect
      .poll(async () => (await keyRow(page, 'Alex’s client'))[6], { timeout: 5_000 })
      .toMatch(/^Revoked \S/);
    expect((await new RemoteKeys(remote.server.store).get(alexKey.id))?.revokedAt).toBeDefined();
    let revoked: unknown;
    for await (const record of readAuditNewestFirst(remote.config.auditDir ?? `${dir.dir}/audit`))
      if (record.type === 'key_revoked' && record.actor?.keyId === alexKey.id) {
        revoked = record.details;
        break;
      }
    expect(revoked).toEqual({ by: megan.username });
  });

  it("revokes the user's own client from the page's button, and the client's next MCP call gets 401 at once", async () => {
    const token = client.tokens()?.access_token ?? '';
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
    expect((await post(token, call)).status).toBe(200);
    await adelePage.goto(`${remote.publicUrl}/`);
    await adelePage.getByRole('button', { name: 'Revoke Test MCP client' }).click();
    await adelePage.getByRole('button', { name: 'Revoke key' }).click();
    await expect
      .poll(async () => (await keyRow(adelePage, 'Test MCP client'))[5], { timeout: 5_000 })
      .toMatch(/^Revoked \S/);
    expect((await post(token, call)).status).toBe(401);
  });

  it('sent no Entra token to the browser or the client', async () => {
    await expect.poll(() => seen.size).toBeGreaterThan(30);
    // Each finding with what surrounds it, so a failure shows where the token was.
    const around = (t: string) =>
      t.slice(Math.max(0, t.indexOf('eyJ') - 200), t.indexOf('eyJ') + 200);
    expect(seen.withTokens().map(around)).toEqual([]);
  });
});
