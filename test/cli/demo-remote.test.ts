import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { launchBrowser, newUserContext } from '../support/browser.ts';
import { cliEnv, spawnCli, type CliProcess } from '../support/cli.ts';
import { startCimdHost, type CimdHost } from '../support/cimd-host.ts';
import { inspectorCli } from '../support/inspector-cli.ts';
import { catchRedirects, signInToConsent } from '../support/remote-mcp.ts';
import { TestOAuthClient } from '../support/valet-auth-harness.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];

// A newcomer runs `mcp-valet demo --remote` and pastes the URL it prints into an MCP client.
let home: string;
let demo: CliProcess;
let told = '';
let printed: { url: string; entra_url: string | null; users: Array<{ username: string }> };
let ready: Record<string, unknown>;
let browser: Browser | undefined;
let cimdHost: CimdHost | undefined;
/** The access token the SDK client got through the demo's authorization server. */
let accessToken = '';

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'valet-remote-demo-'));
  // The demo makes its own certificate authority the first time; this one starts with the
  // run's test CA instead, which this process and the test browser already trust.
  const dir = join(home, '.config', 'mcp-valet', 'demo', 'remote');
  await mkdir(dir, { recursive: true });
  const ca = inject('idpCa');
  await writeFile(join(dir, 'demo-ca.pem'), ca.certPem);
  await writeFile(join(dir, 'demo-ca-key.pem'), ca.keyPem, { mode: 0o600 });
  // Client ID metadata documents on this machine's loopback are allowed for the CIMD client below.
  demo = spawnCli(
    ['demo', '--remote', '--json'],
    cliEnv({ HOME: home, VALET_CIMD_HOSTS: 'localhost' }),
  );
  demo.child.stderr.on('data', (chunk: string) => (told += chunk));
  printed = (await demo.nextEvent('demo', 60_000)) as unknown as typeof printed;
  ready = await demo.nextEvent('ready');
}, 90_000);

afterAll(async () => {
  await cimdHost?.close();
  await browser?.close();
  demo?.child.kill('SIGINT');
  expect((await demo?.exited)?.code).toBe(0);
  await rm(home, { recursive: true, force: true });
});

describe('mcp-valet demo --remote', () => {
  it('serves the team server on https://localhost with both sign-in modes, and tells who can sign in and where', () => {
    expect(printed.url).toMatch(/^https:\/\/localhost:\d+\/mcp$/);
    expect(printed.entra_url).toBe(printed.url.replace(/\/mcp$/, '/entra/mcp'));
    expect(ready).toMatchObject({ event: 'ready', url: printed.url, auth: 'both' });
    expect(printed.users.map((u) => u.username)).toContain(adele.username);
    expect(told).toContain(`Paste ${printed.url} into VS Code`);
    expect(told).toContain(`${adele.username.padEnd(22)} password ${adele.password}`);
    // The app signs in with a certificate, as Microsoft recommends: no secret warning.
    expect(told).toMatch(/Signing in to Entra as app \S+ with certificate/);
    expect(told).not.toMatch(/warning/i);
  });

  it('lets an MCP client that was given only the printed URL register, have a demo user sign in and consent, and call a tool as that user', async () => {
    browser = await launchBrowser();
    const page = await (await newUserContext(browser)).newPage();
    const redirects = await catchRedirects(page);
    const client = new TestOAuthClient({ redirectUrl: redirects.redirectUri, name: 'Pasted URL' });
    expect(await auth(client, { serverUrl: printed.url })).toBe('REDIRECT');
    await page.goto(String(client.authorizationUrl));
    await signInToConsent(page, adele);
    await page.locator('button#allow').click();
    const code = (await redirects.next()).searchParams.get('code') ?? '';
    expect(await auth(client, { serverUrl: printed.url, authorizationCode: code })).toBe(
      'AUTHORIZED',
    );

    accessToken = client.tokens()?.access_token ?? '';

    const mcp = new Client({ name: 'pasted', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(printed.url), { authProvider: client }),
    );
    const me = await mcp.callTool({ name: 'get_user_details', arguments: {} });
    expect(me.isError, JSON.stringify(me.content)).toBeFalsy();
    expect(JSON.stringify(me.structuredContent)).toContain(adele.username);
    // The demo's admin consented the app to every tool's Graph permission: mail works at once.
    const mail = await mcp.callTool({ name: 'list_messages', arguments: {} });
    expect(mail.isError, JSON.stringify(mail.content)).toBeFalsy();
    await mcp.close();
  }, 60_000);

  it('lets the MCP Inspector CLI list and call tools with the token that client was issued, which is no Entra token', async () => {
    expect(accessToken).not.toBe('');
    // Our opaque token, not a JWT: no Entra token ever reaches a client.
    expect(accessToken.split('.')).not.toHaveLength(3);
    const listed = (await inspectorCli(printed.url, accessToken, ['--method', 'tools/list'])) as {
      tools: Array<{ name: string }>;
    };
    expect(listed.tools.map((t) => t.name)).toContain('get_user_details');
    const called = (await inspectorCli(printed.url, accessToken, [
      '--method',
      'tools/call',
      '--tool-name',
      'get_user_details',
    ])) as { structuredContent?: Record<string, unknown>; isError?: boolean };
    expect(called.isError).toBeFalsy();
    expect(called.structuredContent).toMatchObject({ userPrincipalName: adele.username });
  }, 60_000);

  it('lets a client whose ID is its metadata document URL (CIMD, as VS Code does) sign a user in with PKCE in Chromium and call a tool, with no registration', async () => {
    browser ??= await launchBrowser();
    const page = await (await newUserContext(browser)).newPage();
    const redirects = await catchRedirects(page, 53683);
    cimdHost = await startCimdHost((_req, res, port) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          client_id: `https://localhost:${port}/client.json`,
          client_name: 'Metadata Document Client',
          redirect_uris: [redirects.redirectUri],
          token_endpoint_auth_method: 'none',
        }),
      );
    });
    const metadataUrl = `https://localhost:${cimdHost.port}/client.json`;
    const client = new TestOAuthClient({
      redirectUrl: redirects.redirectUri,
      clientMetadataUrl: metadataUrl,
    });
    expect(await auth(client, { serverUrl: printed.url })).toBe('REDIRECT');
    const asked = client.authorizationUrl as URL;
    expect(asked.searchParams.get('client_id')).toBe(metadataUrl);
    expect(asked.searchParams.get('code_challenge_method')).toBe('S256');
    await page.goto(String(asked));
    await signInToConsent(page, alex);
    expect(await page.locator('body').innerText()).toContain('Metadata Document Client');
    await page.locator('button#allow').click();
    const code = (await redirects.next()).searchParams.get('code') ?? '';
    expect(await auth(client, { serverUrl: printed.url, authorizationCode: code })).toBe(
      'AUTHORIZED',
    );
    expect(cimdHost.requests.map((r) => r.path)).toContain('/client.json');
    // Registration would have given the client an ID of the server's making.
    expect((await client.clientInformation())?.client_id).toBe(metadataUrl);

    const mcp = new Client({ name: 'cimd', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(printed.url), { authProvider: client }),
    );
    const me = await mcp.callTool({ name: 'get_user_details', arguments: {} });
    expect(me.isError, JSON.stringify(me.content)).toBeFalsy();
    expect(JSON.stringify(me.structuredContent)).toContain(alex.username);
    await mcp.close();
  }, 60_000);
});
