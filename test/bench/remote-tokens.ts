// How the remote benchmark's clients get their tokens, once each, through the real flows.
import { readFile } from 'node:fs/promises';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { DEMO_CLIENT_ID, type IdpUser, type RunningIdp } from '../../main/demo/idp/index.ts';
import { DEMO_REMOTE_APP_ID } from '../../main/demo/demo-environment.ts';
import { launchBrowser, newUserContext } from '../support/browser.ts';
import { signInByDeviceCode } from '../support/entra-api.ts';
import { catchRedirects, signInToConsent } from '../support/remote-mcp.ts';
import { TestOAuthClient } from '../support/valet-auth-harness.ts';

/**
 * Valet mode: the SDK client's own OAuth against `mcpUrl` (registration, PKCE), the user signed
 * in at the demo IdP and consenting in headless Chromium, then the code exchanged. Resolves to
 * the access token, one of our opaque tokens.
 */
export async function valetToken(mcpUrl: string, user: IdpUser): Promise<string> {
  const caCertPem = await readFile(process.env.BENCH_CA_CERT!, 'utf8');
  const browser = await launchBrowser({ caCertPem });
  try {
    const context = await newUserContext(browser);
    // Only loopback: anything else the pages asked for would leave the machine.
    await context.route(
      (url) => url.hostname !== 'localhost' && url.hostname !== '127.0.0.1',
      (route) => route.abort('blockedbyclient'),
    );
    const page = await context.newPage();
    const redirects = await catchRedirects(page);
    const client = new TestOAuthClient({ redirectUrl: redirects.redirectUri, name: 'bench' });
    if ((await auth(client, { serverUrl: mcpUrl })) !== 'REDIRECT')
      throw new Error('the client was authorized without the user');
    await page.goto(String(client.authorizationUrl));
    await signInToConsent(page, user);
    await page.locator('button#allow').click();
    const code = (await redirects.next()).searchParams.get('code');
    if (!code) throw new Error('the consent page sent the browser back without a code');
    if ((await auth(client, { serverUrl: mcpUrl, authorizationCode: code })) !== 'AUTHORIZED')
      throw new Error('the code was not exchanged for tokens');
    const token = client.tokens()?.access_token;
    if (!token) throw new Error('the token endpoint gave no access token');
    return token;
  } finally {
    await browser.close();
  }
}

/**
 * Entra mode: an Entra access token for the team server's API (`Valet.Use`), as a public client
 * pre-authorized on it gets one: the demo's own public client, by device code.
 */
export async function entraToken(idp: RunningIdp, user: IdpUser): Promise<string> {
  const scope = `api://${DEMO_REMOTE_APP_ID}/Valet.Use`;
  return (await signInByDeviceCode(idp, DEMO_CLIENT_ID, user, [scope])).accessToken;
}
