// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADELE, InMemoryApi } from './in-memory-api.ts';
import { renderApp } from './render-app.tsx';

afterEach(() => vi.restoreAllMocks());

/** The tile `name` of the Status view's "At a glance" list. */
function tile(name: string): HTMLElement {
  const glance = screen.getByRole('list', { name: 'At a glance' });
  return within(glance).getByRole('listitem', { name });
}

/** A tile's verdict, value and detail, as the user reads them. */
function readTile(name: string) {
  const el = tile(name);
  const text = (cls: string) => el.querySelector(`.${cls}`)?.textContent?.trim() ?? null;
  return {
    verdict: text('tile-verdict')?.replace(/^[✓!]\s*/, '') ?? null,
    value: text('tile-value'),
    detail: text('tile-detail'),
    colour: el.className.replace('tile ', ''),
  };
}

describe('Status view at a glance', () => {
  it('shows a healthy app: the endpoint up with its URL, the cache protected by the keyring, and the token counting down', async () => {
    const api = new InMemoryApi();
    api.tokens = [
      {
        scopes: ['Mail.Read'],
        expiresOn: new Date(Date.now() + 50 * 60_000).toISOString(),
        expired: false,
      },
      {
        scopes: ['User.Read'],
        expiresOn: new Date(Date.now() + 125_000).toISOString(),
        expired: false,
      },
      {
        scopes: ['Files.Read'],
        expiresOn: new Date(Date.now() - 5000).toISOString(),
        expired: true,
      },
    ];
    await renderApp(api);
    // At the top of the view, before the account.
    const glance = screen.getByRole('list', { name: 'At a glance' });
    const account = screen.getByRole('region', { name: 'Account' });
    expect(glance.compareDocumentPosition(account) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(readTile('MCP endpoint')).toEqual({
      verdict: 'Good',
      value: 'Up: clients can connect',
      detail: 'http://127.0.0.1:47652/mcp',
      colour: 'tile-good',
    });
    expect(readTile('Token cache')).toEqual({
      verdict: 'Good',
      value: 'Protected by the OS keyring',
      detail: 'Kept by the Secret Service keyring',
      colour: 'tile-good',
    });
    // The token that ends first, among those still valid.
    const token = readTile('Access token');
    expect(token).toMatchObject({ verdict: 'Good', detail: 'User.Read', colour: 'tile-good' });
    expect(token.value).toMatch(/^Lasts 2 min [0-5] s$/);
    await waitFor(() => expect(readTile('Access token').value).not.toBe(token.value), {
      timeout: 2500,
    });
    expect(readTile('Access token').value).toMatch(/^Lasts 2 min [0-4] s$/);
  });

  it('says in words, not in colour alone, what needs attention: a stopped endpoint, a plain-file cache, nobody signed in', async () => {
    const api = new InMemoryApi({ accounts: [] });
    api.endpoint = { url: null, running: false };
    const status = api.status();
    api.status = () => ({
      ...status,
      cache: {
        kind: 'plaintext',
        persisted: true,
        protected: false,
        reason: 'No keyring; VALET_ALLOW_PLAINTEXT_CACHE=1 allows a 0600 file',
      },
    });
    await renderApp(api);
    expect(readTile('MCP endpoint')).toEqual({
      verdict: 'Needs attention',
      value: 'Down: clients cannot connect',
      detail: 'No address yet',
      colour: 'tile-attention',
    });
    expect(readTile('Token cache')).toEqual({
      verdict: 'Needs attention',
      value: 'Not protected: a plain file',
      detail: 'No keyring; VALET_ALLOW_PLAINTEXT_CACHE=1 allows a 0600 file',
      colour: 'tile-attention',
    });
    expect(readTile('Access token')).toEqual({
      verdict: 'Needs attention',
      value: 'Not signed in',
      detail: null,
      colour: 'tile-attention',
    });
  });

  it('says an expired token refreshes on the next call, a memory-only cache is not saved, and in the demo a cache outside the keyring is not needed', async () => {
    const api = new InMemoryApi();
    api.tokens = [
      {
        scopes: ['User.Read'],
        expiresOn: new Date(Date.now() - 60_000).toISOString(),
        expired: true,
      },
    ];
    const status = api.status();
    const memory = {
      kind: 'memory',
      persisted: false,
      protected: false,
      reason: 'No keyring found',
    };
    api.status = () => ({ ...status, tokens: api.tokens, cache: memory });
    await renderApp(api);
    expect(readTile('Access token')).toMatchObject({
      verdict: 'Good',
      value: 'Expired — refreshes on next call',
    });
    expect(readTile('Token cache')).toMatchObject({
      verdict: 'Needs attention',
      value: 'Not saved: kept in memory',
    });

    api.emit({
      type: 'status-changed',
      status: { ...status, demo: true, cache: { ...memory, reason: 'not needed in the demo' } },
    });
    await waitFor(() =>
      expect(readTile('Token cache')).toEqual({
        verdict: 'Good',
        value: 'Not needed in the demo',
        detail: null,
        colour: 'tile-good',
      }),
    );
  });
});

describe('Status view: the latest call', () => {
  it('says no call was made yet, then shows each new call live: client, tool and outcome, a refused one as needing attention', async () => {
    const { api } = await renderApp();
    await waitFor(() =>
      expect(readTile('Latest call')).toEqual({
        verdict: null,
        value: 'No calls yet',
        detail: 'Create a key under Clients and add it to an MCP client',
        colour: 'tile-quiet',
      }),
    );
    api.pushActivity({ tool: 'get_user_details', keyName: 'e2e', client: 'E2E Client 1.0' });
    await waitFor(() =>
      expect(readTile('Latest call')).toMatchObject({
        verdict: 'Good',
        value: 'get_user_details: allowed',
        colour: 'tile-good',
      }),
    );
    expect(readTile('Latest call').detail).toMatch(/^By e2e \(E2E Client 1\.0\) at \d/);
    api.pushActivity({ tool: 'send_mail', outcome: 'denied' });
    await waitFor(() =>
      expect(readTile('Latest call')).toMatchObject({
        verdict: 'Needs attention',
        value: 'send_mail: denied',
        colour: 'tile-attention',
      }),
    );
  });

  it('shows the newest call in the log when the view opens', async () => {
    const api = new InMemoryApi();
    api.seedActivity(3);
    api.pushActivity({ tool: 'list_events', keyName: 'claude', client: null });
    await renderApp(api);
    await waitFor(() =>
      expect(readTile('Latest call')).toMatchObject({
        verdict: 'Good',
        value: 'list_events: allowed',
      }),
    );
    expect(readTile('Latest call').detail).toMatch(/^By claude at /);
  });
});

describe('Status view', () => {
  it('shows who is signed in, token freshness, broker, cache and the endpoint', async () => {
    const { user } = await renderApp();
    const account = screen.getByRole('region', { name: 'Account' });
    expect(within(account).getByText('Adele Vance')).toBeTruthy();
    expect(within(account).getByText('adele@contoso.com')).toBeTruthy();
    expect(within(account).getByText(ADELE.tenantId)).toBeTruthy();
    const tokens = screen.getByRole('table', { name: /Cached access tokens/ });
    expect(within(tokens).getByRole('cell', { name: 'User.Read' })).toBeTruthy();
    expect(within(tokens).getByText(/^(49|50) min/)).toBeTruthy();
    expect(screen.getByText(/Not available \(mode auto\): No broker on Linux/)).toBeTruthy();
    expect(screen.getByText(/Secret Service \(gnome-keyring\) is unlocked/)).toBeTruthy();

    await user.click(screen.getByRole('button', { name: 'Copy endpoint URL' }));
    expect(await navigator.clipboard.readText()).toBe('http://127.0.0.1:47652/mcp');
    expect(screen.getByText('Copied')).toBeTruthy();
  });

  it('in the demo, says the broker and the keyring are not needed there, instead of listing them as problems', async () => {
    const api = new InMemoryApi();
    const status = api.status();
    api.status = () => ({
      ...status,
      demo: true,
      broker: { mode: 'off', available: false, reason: 'not needed in the demo' },
      cache: {
        kind: 'plaintext',
        persisted: true,
        protected: false,
        reason: 'not needed in the demo',
      },
    });
    await renderApp(api);
    const system = screen.getByRole('region', { name: 'Sign-in and token cache' });
    expect(within(system).getAllByText('Not needed in the demo')).toHaveLength(2);
    expect(system.textContent).not.toMatch(/Not available|Not saved/);
  });

  it('follows the status the core sends: a sign-out, a stopped endpoint', async () => {
    const { api } = await renderApp();
    api.accounts = [];
    api.emit({ type: 'status-changed', status: api.status() });
    expect(await screen.findByText(/Nobody is signed in/)).toBeTruthy();
    api.endpoint = { url: 'http://127.0.0.1:5000/mcp', running: false };
    api.emit({ type: 'status-changed', status: api.status() });
    const endpoint = screen.getByRole('region', { name: 'MCP endpoint' });
    expect(await within(endpoint).findByText('http://127.0.0.1:5000/mcp')).toBeTruthy();
    expect(screen.getByText(/Stopped: clients cannot connect/)).toBeTruthy();
  });

  it('signs in with a browser: opens the URL the core reports, keeps the link as a fallback, and finishes when the status says who signed in', async () => {
    const open = vi.spyOn(window, 'open').mockReturnValue(null);
    const api = new InMemoryApi({ accounts: [] });
    const url = 'https://login.example/authorize?x=1';
    api.signInSteps = [{ kind: 'browser', url, opened: false }];
    const { user } = await renderApp(api);
    expect(screen.getByText(/Nobody is signed in/)).toBeTruthy();

    await user.click(screen.getByRole('button', { name: 'Use a browser' }));
    expect(api.callsTo('signIn')).toEqual([{ method: 'browser' }]);
    const link = await screen.findByRole('link', { name: 'open the sign-in page' });
    expect(link.getAttribute('href')).toBe(url);
    expect(open).toHaveBeenCalledTimes(1);
    expect(open).toHaveBeenCalledWith(url, '_blank', 'noopener');

    api.completeSignIn({ ...ADELE });
    expect(await screen.findByText('Adele Vance')).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'open the sign-in page' })).toBeNull();
  });

  it('leaves the page to the system browser when MCP Valet opened it, with the link as a fallback', async () => {
    const open = vi.spyOn(window, 'open').mockReturnValue(null);
    const api = new InMemoryApi({ accounts: [] });
    api.signInSteps = [{ kind: 'browser', url: 'https://login.example/a', opened: true }];
    const { user } = await renderApp(api);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('link', { name: 'open the sign-in page' })).toBeTruthy();
    expect(open).not.toHaveBeenCalled();
  });

  it('never opens a sign-in URL that is not a web address', async () => {
    const open = vi.spyOn(window, 'open').mockReturnValue(null);
    const api = new InMemoryApi({ accounts: [] });
    api.signInSteps = [{ kind: 'browser', url: 'javascript:alert(1)', opened: false }];
    const { user } = await renderApp(api);
    await user.click(screen.getByRole('button', { name: 'Use a browser' }));
    expect(await screen.findByText('The sign-in address is not a web address.')).toBeTruthy();
    expect(open).not.toHaveBeenCalled();
  });

  it('signs in with a device code: shows the code and the verification link, and cancels that attempt', async () => {
    const api = new InMemoryApi({ accounts: [] });
    api.signInSteps = [
      {
        kind: 'device-code',
        verificationUri: 'https://microsoft.com/devicelogin',
        userCode: 'ABCD-EFGH',
        message: 'To sign in, use a web browser…',
        expiresAt: new Date(Date.now() + 900_000).toISOString(),
      },
    ];
    const { user } = await renderApp(api);
    await user.click(screen.getByRole('button', { name: 'Use a device code' }));
    expect(await screen.findByText('ABCD-EFGH')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'https://microsoft.com/devicelogin' })).toBeTruthy();
    expect(screen.getByText(/expires in 1[45] min/)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Copy device code' }));
    expect(await navigator.clipboard.readText()).toBe('ABCD-EFGH');

    await user.click(screen.getByRole('button', { name: 'Cancel sign-in' }));
    expect(api.callsTo('cancelSignIn')).toEqual([{ attemptId: api.attemptId }]);
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeTruthy();
  });

  it('shows the latest step as the sign-in falls back: the broker, the browser, then the device code', async () => {
    const api = new InMemoryApi({ accounts: [] });
    api.signInSteps = [];
    const { user } = await renderApp(api);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Starting the sign-in…')).toBeTruthy();
    api.reportSignIn({ kind: 'broker' });
    expect(await screen.findByText(/Finish signing in in the window that opened/)).toBeTruthy();
    api.reportSignIn({ kind: 'browser', url: 'https://login.example/a', opened: true });
    expect(await screen.findByRole('link', { name: 'open the sign-in page' })).toBeTruthy();
    api.reportSignIn({
      kind: 'device-code',
      verificationUri: 'https://login.example/device',
      userCode: 'WXYZ-1234',
      message: '',
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    });
    expect(await screen.findByText('WXYZ-1234')).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'open the sign-in page' })).toBeNull();
  });

  it('shows a sign-in the tray started, with its device code, and cancels it by its attempt', async () => {
    const api = new InMemoryApi({ accounts: [] });
    const { user } = await renderApp(api);
    api.reportSignIn({ kind: 'broker' }, 'from-the-tray');
    api.reportSignIn(
      {
        kind: 'device-code',
        verificationUri: 'https://login.example/device',
        userCode: 'TRAY-CODE',
        message: '',
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
      },
      'from-the-tray',
    );
    expect(await screen.findByText('TRAY-CODE')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Cancel sign-in' }));
    expect(api.callsTo('cancelSignIn')).toEqual([{ attemptId: 'from-the-tray' }]);
  });

  it('shows the failure of the sign-in it started where it happened, with the buttons back', async () => {
    const api = new InMemoryApi({ accounts: [] });
    const { user } = await renderApp(api);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(api.callsTo('signIn')).toEqual([{ method: 'auto' }]);
    expect(await screen.findByText(/Finish signing in in the window that opened/)).toBeTruthy();

    api.reportSignIn({ kind: 'failed', message: 'The sign-in was cancelled in the browser' });
    const group = screen.getByRole('group', { name: 'Sign in' });
    expect((await within(group).findByRole('alert')).textContent).toBe(
      'The sign-in was cancelled in the browser',
    );
    expect(within(group).getByRole('button', { name: 'Sign in' })).toBeTruthy();
  });

  it('shows the error of a sign-in that could not start next to the buttons', async () => {
    const api = new InMemoryApi({ accounts: [] });
    api.failNext('signIn', 'The client ID is not registered in this tenant');
    const { user } = await renderApp(api);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    const group = screen.getByRole('group', { name: 'Sign in' });
    expect((await within(group).findByRole('alert')).textContent).toBe(
      'The client ID is not registered in this tenant',
    );
  });

  it('asks for missing consent with the scopes', async () => {
    const api = new InMemoryApi({ missingScopes: ['Mail.Read', 'Calendars.Read'] });
    const { user } = await renderApp(api);
    expect(
      screen.getByText(/permissions you have not granted yet: Mail.Read and Calendars.Read/),
    ).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Grant Mail.Read, Calendars.Read' }));
    expect(api.callsTo('signIn')).toEqual([
      { method: 'auto', scopes: ['Mail.Read', 'Calendars.Read'] },
    ]);
  });

  it('signs out, and shows a failed sign-out next to the button', async () => {
    const { api, user } = await renderApp();
    api.failNext('signOut', 'The keyring is locked: unlock it and try again');
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'The keyring is locked: unlock it and try again',
    );

    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() =>
      expect(screen.getByRole('region', { name: 'Account' }).textContent).toContain('Megan Bowen'),
    );
    expect(api.callsTo('signOut').at(-1)).toEqual({ account: ADELE.homeAccountId });
  });
});

describe('Status view: diagnostics', () => {
  it('in the desktop app, shows where the log is, its last lines, and opens it', async () => {
    const api = new InMemoryApi();
    api.diagnostics = {
      path: '/home/adele/.config/mcp-valet/logs/diagnostics.log',
      recent: [
        '2026-11-29T10:00:00.000Z info endpoint listening on http://127.0.0.1:47652/mcp',
        '2026-11-29T10:01:00.000Z warn sign-in failed: the browser was closed',
      ],
      canOpen: true,
    };
    const { user } = await renderApp(api);
    const section = await screen.findByRole('region', { name: 'Diagnostics' });
    expect(
      await within(section).findByText('/home/adele/.config/mcp-valet/logs/diagnostics.log'),
    ).toBeTruthy();
    const lines = within(section).getByLabelText('Last lines of the diagnostics log');
    expect(lines.textContent).toBe(api.diagnostics.recent.join('\n'));
    expect(within(section).getByText('Last 2 lines')).toBeTruthy();
    expect(api.callsTo('getDiagnostics')).toEqual([{ lines: 20 }]);

    await user.click(within(section).getByRole('button', { name: 'Open diagnostics log' }));
    expect(api.callsTo('openDiagnostics')).toEqual([{}]);

    api.diagnostics.recent.push('2026-11-29T10:02:00.000Z info stopped');
    await user.click(within(section).getByRole('button', { name: 'Show the latest lines' }));
    await waitFor(() => expect(lines.textContent).toMatch(/info stopped$/));
  });

  it('shows why the log did not open next to the button', async () => {
    const api = new InMemoryApi();
    api.diagnostics = { path: '/tmp/x/logs/diagnostics.log', recent: [], canOpen: true };
    const { user } = await renderApp(api);
    const section = await screen.findByRole('region', { name: 'Diagnostics' });
    expect(await within(section).findByText('Nothing written yet.')).toBeTruthy();
    api.failNext('openDiagnostics', 'Cannot open /tmp/x/logs/diagnostics.log: no viewer');
    await user.click(within(section).getByRole('button', { name: 'Open diagnostics log' }));
    expect((await within(section).findByRole('alert')).textContent).toBe(
      'Cannot open /tmp/x/logs/diagnostics.log: no viewer',
    );
  });

  it('in a browser, says diagnostics go to the terminal serve runs in, with nothing to open', async () => {
    await renderApp();
    const section = await screen.findByRole('region', { name: 'Diagnostics' });
    expect((await within(section).findByText(/go to the terminal it runs in/)).textContent).toBe(
      'This window is served by mcp-valet serve or demo: diagnostics go to the terminal it runs in (more with VALET_LOG_LEVEL=debug).',
    );
    expect(within(section).queryByRole('button', { name: 'Open diagnostics log' })).toBeNull();
  });
});
