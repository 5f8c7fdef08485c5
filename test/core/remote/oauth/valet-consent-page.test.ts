import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOOL_NAMES } from '../../../../main/core/mcp/tool-definition.ts';
import {
  ALL_SCOPES,
  SCOPE_TOOLS,
  scopeForTool,
} from '../../../../main/core/remote/oauth/scopes.ts';
import {
  readConsentForm,
  startValetAuth,
  TestOAuthClient,
  type ValetAuthHarness,
} from '../../../support/valet-auth-harness.ts';

let h: ValetAuthHarness;

beforeEach(async () => {
  h = await startValetAuth();
});

afterEach(async () => {
  await h.close();
});

/** Registers `client` by DCR and opens its consent page as the signed-in user. */
async function consentPage(client: TestOAuthClient) {
  const session = await h.signIn();
  await auth(client, { serverUrl: h.mcpUrl, fetchFn: h.fetch });
  const start = await h.fetch(client.authorizationUrl as URL, {
    redirect: 'manual',
    headers: { cookie: session.cookie },
  });
  const res = await h.fetch(new URL(start.headers.get('location') ?? '', h.url), {
    headers: { cookie: session.cookie },
  });
  return { res, html: await res.text(), session };
}

describe('the consent page', () => {
  it('shows the client, its redirect host, the account and the tools: read tools checked, write tools not', async () => {
    const { res, html, session } = await consentPage(
      new TestOAuthClient({ redirectUrl: 'https://app.example.com/oauth/cb', name: 'Example App' }),
    );
    expect(res.status).toBe(200);
    expect(html).toContain('Example App');
    expect(html).toMatch(/id="redirect-host">app\.example\.com</);
    expect(html).toMatch(/id="account">Alice Example</);
    expect(html).toContain('alice@contoso.example');
    expect(html).not.toContain('id="localhost-warning"');
    expect(html).toMatch(/<button type="submit" id="allow"/);
    expect(html).toMatch(/<button type="submit" id="deny"/);
    const form = readConsentForm(html);
    expect(form.csrf).toBe(session.csrf);
    expect(form.checked).toEqual([
      'get_user_details',
      'list_messages',
      'get_message',
      'list_events',
      'search_files',
      'search_people',
      'auth_status',
    ]);
    expect(html).toMatch(/value="send_mail">/);
    expect(html).toMatch(/value="create_event">/);
  });

  it('warns when the client redirects only to this computer', async () => {
    const { html } = await consentPage(new TestOAuthClient());
    expect(html).toMatch(
      /id="localhost-warning">[^<]*only to this computer \(127\.0\.0\.1:53682\)/,
    );
  });

  it('names an app’s own redirect scheme (Cursor’s cursor://) as the place the browser goes, and warns that it stays on this computer', async () => {
    const { html } = await consentPage(
      new TestOAuthClient({ redirectUrl: 'cursor://anysphere.cursor-mcp/oauth/callback' }),
    );
    expect(html).toMatch(/id="redirect-host">cursor:\/\/anysphere\.cursor-mcp</);
    expect(html).toMatch(/id="localhost-warning">[^<]*only to this computer/);
  });

  it('escapes everything the client supplied', async () => {
    const { html } = await consentPage(
      new TestOAuthClient({ name: '<img src=x onerror=alert(1)>"\'&' }),
    );
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
  });

  it('is never cached or framed, and runs no script', async () => {
    const { res } = await consentPage(new TestOAuthClient());
    expect(res.headers.get('cache-control')).toBe('no-store');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('valet scopes', () => {
  it('map every tool to exactly one scope, and every scope to at least one tool', () => {
    for (const tool of TOOL_NAMES) {
      const holders = ALL_SCOPES.filter((s) =>
        (SCOPE_TOOLS[s] as readonly string[]).includes(tool),
      );
      expect(holders, tool).toEqual([scopeForTool(tool)]);
    }
    for (const scope of ALL_SCOPES) expect(SCOPE_TOOLS[scope].length, scope).toBeGreaterThan(0);
    expect(scopeForTool('send_mail')).toBe('valet.mail.send');
    expect(scopeForTool('create_event')).toBe('valet.calendars.write');
  });
});
