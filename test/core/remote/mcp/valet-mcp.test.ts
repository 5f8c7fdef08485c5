import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteKeys } from '../../../../main/core/remote/oauth/remote-keys.ts';
import type { RunningGraph } from '../../../../main/demo/graph/index.ts';
import { DEMO_USERS } from '../../../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../../../main/demo/idp/index.ts';
import { auditRecords } from '../../../support/audit-records.ts';
import { launchBrowser, newUserContext, signInAtIdp } from '../../../support/browser.ts';
import { startTestIdp } from '../../../support/idp.ts';
import {
  catchRedirects,
  challengeParams,
  signInToConsent,
  type RedirectCatcher,
} from '../../../support/remote-mcp.ts';
import {
  freePort,
  REMOTE_CLIENT_ID,
  REMOTE_CLIENT_SECRET,
  remoteWebApp,
  ResponseLog,
  postMcpRequest,
  startTestRemote,
  tempDir,
  type TestRemote,
} from '../../../support/remote-server.ts';
import { TestOAuthClient } from '../../../support/valet-auth-harness.ts';
import { startGraphFor } from '../../../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];

describe('Valet mode end to end: the SDK client authorizes itself, the user consents in Chromium, and tools run as the user', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let idp: RunningIdp;
  let graph: RunningGraph;
  let remote: TestRemote;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let redirects: RedirectCatcher;
  let mcpUrl: string;
  /** The client after its first authorization, with its tokens. */
  let client: TestOAuthClient;
  /** The same client authorized again with valet.mail.send. */
  let writer: TestOAuthClient;
  const seen = new ResponseLog();

  /** A fetch for the SDK client that keeps every answer of the server for the token scan. */
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const copy = response.clone();
    const headers = Object.fromEntries(copy.headers);
    // An SSE answer of a call is read whole by the client; the copy is read alongside it.
    void copy.text().then(
      (body) => seen.add({ headers, body }),
      () => undefined,
    );
    return response;
  };

  /** Authorizes `oauth` for `scope` through the browser: sign-in (when needed) and consent. */
  async function authorize(oauth: TestOAuthClient, scope?: string): Promise<string> {
    const options = { serverUrl: mcpUrl, fetchFn: recordingFetch, ...(scope ? { scope } : {}) };
    expect(await auth(oauth, options)).toBe('REDIRECT');
    await page.goto(String(oauth.authorizationUrl));
    await signInToConsent(page, adele);
    const html = await page.content();
    await page.locator('button#allow').click();
    const back = await redirects.next();
    // The browser lands on the client's redirect before it is sent anywhere else.
    await page.waitForURL(`${redirects.redirectUri}**`, { waitUntil: 'commit' });
    const code = back.searchParams.get('code');
    expect(back.searchParams.get('iss')).toBe(remote.publicUrl);
    expect(await auth(oauth, { ...options, authorizationCode: code ?? '' })).toBe('AUTHORIZED');
    return html;
  }

  /** A raw JSON-RPC POST to /mcp with a bearer token. */
  function post(token: string, body: unknown) {
    return postMcpRequest(mcpUrl, token, body).then((response) => {
      seen.add(response);
      return response;
    });
  }

  beforeAll(async () => {
    dir = await tempDir();
    const port = await freePort();
    [idp, browser] = await Promise.all([
      startTestIdp({
        confidentialClients: [remoteWebApp(port, { adminConsented: ['User.Read'] })],
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
      },
      { dir: dir.dir, https: true, port },
    );
    mcpUrl = `${remote.publicUrl}/mcp`;
    context = await newUserContext(browser);
    await context.route(
      (url) => url.hostname !== 'localhost' && url.hostname !== '127.0.0.1',
      (route) => route.abort('blockedbyclient'),
    );
    page = await context.newPage();
    page.on('response', (response) => {
      if (!response.url().startsWith(remote.publicUrl)) return;
      void (async () => {
        seen.add({
          headers: await response.allHeaders(),
          body: await response.text().catch(() => ''),
        });
      })();
    });
    redirects = await catchRedirects(page);
    client = new TestOAuthClient({ redirectUrl: redirects.redirectUri, name: 'Test MCP client' });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await remote?.close();
    await graph?.close();
    await idp?.close();
    await dir?.remove();
  });

  it('lists the granted tools and calls get_user_details, and list_messages once the user granted Mail.Read at the link its error gave, as the signed-in user through the SDK client', async () => {
    await authorize(client);
    expect(client.tokens()?.scope).toBe('valet.read');
    const mcp = new Client({ name: 'e2e', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl), {
        authProvider: client,
        fetch: recordingFetch,
      }),
    );
    try {
      const listed = (await mcp.listTools()).tools.map((t) => t.name);
      expect(listed).toContain('get_user_details');
      expect(listed).toContain('list_messages');
      expect(listed).not.toContain('send_mail');

      const me = await mcp.callTool({ name: 'get_user_details', arguments: {} });
      expect(me.isError, JSON.stringify(me.content)).toBeFalsy();
      expect(JSON.stringify(me.structuredContent)).toContain(adele.username);
      // The admin consented to User.Read only: reading mail needs the user's own consent first.
      const refused = await mcp.callTool({ name: 'list_messages', arguments: {} });
      expect(refused.isError).toBe(true);
      const text = JSON.stringify(refused.content);
      const link = `${remote.publicUrl}/auth/grant?scopes=Mail.Read`;
      expect(text).toContain(link);
      await page.goto(link);
      await signInAtIdp(page, adele);
      await expect
        .poll(() => page.getByRole('status').innerText())
        .toContain('MCP Valet may now use Microsoft Graph (Mail.Read) as you');
      const mail = await mcp.callTool({ name: 'list_messages', arguments: {} });
      expect(mail.isError, JSON.stringify(mail.content)).toBeFalsy();
    } finally {
      await mcp.close();
    }
    const paths = graph.requests.map((r) => `${r.status} ${r.path} ${r.userId}`);
    expect(paths).toContain(`200 /v1.0/me ${adele.id}`);
    expect(paths).toContain(`200 /v1.0/me/messages ${adele.id}`);
  });

  it('answers a send_mail call without valet.mail.send with 403 insufficient_scope naming the granted and the added scope', async () => {
    const token = client.tokens()?.access_token ?? '';
    const response = await post(token, {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'send_mail', arguments: { to: ['x@contoso.test'], subject: 's', body: 'b' } },
    });
    expect(response.status).toBe(403);
    const challenge = challengeParams(String(response.headers['www-authenticate']));
    expect(challenge.error).toBe('insufficient_scope');
    expect(challenge.scope).toBe('valet.read valet.mail.send');
    expect(challenge.resource_metadata).toBe(
      `${remote.publicUrl}/.well-known/oauth-protected-resource/mcp`,
    );
  });

  it('shows send_mail checked on the consent page when the client authorizes again for valet.mail.send', async () => {
    writer = new TestOAuthClient({
      redirectUrl: redirects.redirectUri,
      name: 'Test MCP client',
    });
    writer.saveClientInformation(client.clientInformation() ?? { client_id: '' });
    const html = await authorize(writer, 'valet.read valet.mail.send');
    expect(html).toMatch(/name="tools" value="send_mail" checked/);
    expect(writer.tokens()?.scope).toBe('valet.read valet.mail.send');
  });

  it('holds send_mail until the same user approves it on the page its progress message links, then sends as the user', async () => {
    // Sending needs the user's Graph consent to Mail.Send first, as reading needed Mail.Read.
    await page.goto(`${remote.publicUrl}/auth/grant?scopes=Mail.Send`);
    await signInAtIdp(page, adele);
    await page.getByRole('status').waitFor();
    const mcp = new Client({ name: 'e2e', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl), {
        authProvider: writer,
        fetch: recordingFetch,
      }),
    );
    try {
      let approvalUrl: (url: string) => void = () => undefined;
      const linked = new Promise<string>((resolve) => (approvalUrl = resolve));
      const call = mcp.callTool(
        {
          name: 'send_mail',
          arguments: { to: ['alex@contoso.test'], subject: 'Remote hello', body: 'Sent remotely' },
        },
        undefined,
        {
          onprogress: (progress) => {
            const url = /https:\/\/\S+\/approvals\/[A-Za-z0-9_-]+/.exec(progress.message ?? '');
            if (url) approvalUrl(url[0]);
          },
        },
      );
      const url = await linked;
      expect(url.startsWith(`${remote.publicUrl}/approvals/`)).toBe(true);
      await page.goto(url);
      await page.locator('button#approve').click();
      const sent = await call;
      expect(sent.isError, JSON.stringify(sent.content)).toBeFalsy();
    } finally {
      await mcp.close();
    }
    const posted = graph.requests.find((r) => r.method === 'POST' && r.path.endsWith('/sendMail'));
    expect(posted).toMatchObject({ status: 202, userId: adele.id });
  });

  it('answers a client that declared URL elicitation with -32042 naming /approvals/<id>, and runs the tool on its retry once the user approved there', async () => {
    const mcp = new Client(
      { name: 'e2e-elicitation', version: '1.0.0' },
      { capabilities: { elicitation: { url: {} } } },
    );
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl), {
        authProvider: writer,
        fetch: recordingFetch,
      }),
    );
    const sent = () =>
      graph.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/sendMail')).length;
    const before = sent();
    const call = {
      name: 'send_mail',
      arguments: { to: ['alex@contoso.test'], subject: 'Elicited', body: 'Approved on the page' },
    };
    try {
      // Answered at once, not after a wait for the decision: a client that waits here fails fast.
      const refused = await mcp.callTool(call, undefined, { timeout: 5000 }).then(
        () => undefined,
        (err: unknown) =>
          err as { code?: number; data?: { elicitations?: Array<{ url: string }> } },
      );
      expect(refused?.code).toBe(-32042);
      const url = refused?.data?.elicitations?.[0]?.url ?? '';
      expect(url).toMatch(new RegExp(`^${remote.publicUrl}/approvals/[A-Za-z0-9_-]+$`));
      expect(sent()).toBe(before);
      await page.goto(url);
      await page.locator('button#approve').click();
      await expect.poll(() => page.getByRole('status').innerText()).toMatch(/approved/i);
      const retried = await mcp.callTool(call);
      expect(retried.isError, JSON.stringify(retried.content)).toBeFalsy();
    } finally {
      await mcp.close();
    }
    expect(sent()).toBe(before + 1);
  });

  it('writes an audit record of each call naming the user, the client and the tool', async () => {
    const calls = await auditRecords(join(dir.dir, 'audit'), (r) => r.type === 'tool_call');
    const me = calls.find((r) => r.details?.tool === 'get_user_details');
    expect(me).toMatchObject({
      outcome: 'allowed',
      actor: { account: adele.username, keyName: 'Test MCP client' },
    });
    expect(me?.actor?.client).toBe('Test MCP client');
    expect(me?.actor?.clientId).toBe(client.clientInformation()?.client_id);
    expect(me?.actor?.oid).toBe(adele.id);
    expect(calls.map((r) => r.details?.tool)).toContain('list_messages');
  });

  it("decides a tool's required app role on the roles of the user's ID token", async () => {
    const mcp = new Client({ name: 'e2e', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl), {
        authProvider: client,
        fetch: recordingFetch,
      }),
    );
    const textOf = async () =>
      JSON.stringify((await mcp.callTool({ name: 'get_user_details', arguments: {} })).content);
    try {
      const policy = (role: string) =>
        writeFile(
          join(dir.dir, 'config.json'),
          JSON.stringify({ policy: { tools: { get_user_details: { requireRole: role } } } }),
        );
      await policy('Valet.Admin');
      await expect
        .poll(textOf)
        .toContain('get_user_details requires the app role Valet.Admin, which adele@contoso.test');
      // Adele holds Valet.Mail.Send in the directory, so her ID token names it.
      await policy('Valet.Mail.Send');
      await expect.poll(textOf).not.toContain('requires the app role');
      expect(await textOf()).toContain(adele.username);
    } finally {
      await mcp.close();
      await writeFile(join(dir.dir, 'config.json'), '{}');
    }
  });

  it('answers 429 with Retry-After once the key is over the policy rate', async () => {
    await writeFile(
      join(dir.dir, 'config.json'),
      JSON.stringify({ policy: { rateLimits: { requestsPerMinute: 1, burst: 2 } } }),
    );
    const token = client.tokens()?.access_token ?? '';
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
    let response = await post(token, list);
    for (let i = 0; i < 10 && response.status !== 429; i++) response = await post(token, list);
    expect(response.status).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await writeFile(join(dir.dir, 'config.json'), '{}');
  });

  it('refuses the token of a revoked key with 401 at once', async () => {
    const token = client.tokens()?.access_token ?? '';
    const keys = new RemoteKeys(remote.server.store);
    const [key] = await keys.list(adele.id);
    expect(key).toBeDefined();
    await keys.revoke(key?.id ?? '');
    const response = await post(token, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    expect(response.status).toBe(401);
    expect(challengeParams(String(response.headers['www-authenticate'])).error).toBe(
      'invalid_token',
    );
  });

  it('sent no Entra token to the client or the browser', () => {
    expect(seen.size).toBeGreaterThan(10);
    expect(seen.withTokens()).toEqual([]);
  });
});
