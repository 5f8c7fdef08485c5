import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDesktopApp, type DesktopApp } from '../../main/electron/desktop-app.ts';
import { APP_ORIGIN } from '../../main/electron/window-security.ts';
import type { RunningGraph } from '../../main/demo/graph/index.ts';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { BrowserUser, idpEnv } from '../support/auth.ts';
import { BrokerDouble } from '../support/broker-double.ts';
import { signInUntil } from '../support/sign-in-steps.ts';
import { useIdpAndBrowser } from '../support/fixtures.ts';
import { connectClient, startGraphFor } from '../support/valet.ts';
import {
  app,
  BrowserWindow,
  ipcMain,
  platform,
  resetFakeElectron,
  session as fakeSession,
  Tray,
  type FakeMenu,
} from './fake-electron.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const fx = useIdpAndBrowser();
let graph: RunningGraph;
let running: DesktopApp | undefined;

beforeAll(async () => {
  graph = await startGraphFor(fx.idp);
});
afterAll(() => graph?.close());
beforeEach(() => resetFakeElectron());
afterEach(async () => {
  if (running && !platform.quitted) {
    app.quit();
    await until('the app to quit', () => platform.quitted);
  }
  running = undefined;
});

async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts the desktop app against the test IdP and Graph stand-in, with a broker double. */
async function launch(
  options: { env?: Record<string, string>; argv?: string[]; os?: NodeJS.Platform } = {},
) {
  const dataDir = await mkdtemp(join(tmpdir(), 'valet-desktop-'));
  const people = new BrowserUser(fx.browser);
  const who = { user: adele };
  const broker = new BrokerDouble(fx.idp, (url) => people.opener(who.user)(url));
  const desk = await startDesktopApp({
    env: idpEnv(fx.idp, dataDir, {
      VALET_GRAPH_URL: graph.url,
      VALET_PORT: '0',
      VALET_BROKER: 'on',
      ...options.env,
    }),
    argv: options.argv ?? ['electron', '.'],
    platform: options.os ?? 'win32',
    core: { brokerLoader: async () => broker },
  });
  running = desk;
  const win = BrowserWindow.all[0];
  return { desk: desk!, broker, who, win: win! };
}

/** Signs in from the tray, makes Claude a send_mail key, and has it send `body`: the call waits for approval. */
async function signInAndSend(desk: DesktopApp, body: string) {
  await click('Sign in…');
  await until('signed in', () => labels()[0]?.startsWith('Signed in as'));
  const created = await desk.api.createKey({
    name: 'claude',
    tools: ['send_mail'],
    readOnly: false,
  });
  const { client } = await connectClient(desk.core.endpoint!.url, created.secret, 'Claude');
  const call = client.callTool({
    name: 'send_mail',
    arguments: { to: ['alex@contoso.test'], subject: 'Numbers', body },
  });
  return { created, call };
}

type MenuEntry = FakeMenu['items'][number];

function menu(): MenuEntry[] {
  return Tray.all[0]?.menu?.items ?? [];
}

function labels(items: MenuEntry[] = menu()): string[] {
  return items.map((i) => (i.type === 'separator' ? '---' : String(i.label)));
}

function item(label: string | RegExp, items: MenuEntry[] = menu()): MenuEntry {
  for (const entry of items) {
    if (
      typeof entry.label === 'string' &&
      (typeof label === 'string' ? entry.label === label : label.test(entry.label))
    )
      return entry;
    if (Array.isArray(entry.submenu)) {
      try {
        return item(label, entry.submenu as MenuEntry[]);
      } catch {
        // not in this submenu
      }
    }
  }
  throw new Error(`no menu item ${String(label)} in ${JSON.stringify(labels(items))}`);
}

async function click(label: string | RegExp): Promise<void> {
  const entry = item(label);
  expect(entry.enabled, `${String(label)} is enabled`).not.toBe(false);
  entry.click!();
}

describe('the desktop app', () => {
  it('opens one guarded window on app://, with the built preload, and serves the endpoint', async () => {
    const { desk, win } = await launch();
    expect(BrowserWindow.all).toHaveLength(1);
    expect(win.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    });
    const preload = (win.options.webPreferences as { preload: string }).preload;
    expect(existsSync(preload), preload).toBe(true);
    expect(win.webContents.mainFrame.url).toBe(`${APP_ORIGIN}/`);
    await until('the window to show', () => win.visible);
    expect(win.webContents.navigate('https://evil.example/')).toBe(false);
    expect(await fakeSession.defaultSession.requestPermission('media')).toBe(false);
    expect(platform.protocolHandlers.has('app')).toBe(true);
    const index = await platform.protocolHandlers.get('app')!(new Request(`${APP_ORIGIN}/`));
    expect(await index.text()).toContain('<div id="root">');
    const url = desk.core.endpoint!.url;
    expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(401);
    expect(ipcMain.handlers.size).toBeGreaterThan(10);
    // The tray's key glyph, drawn for 1x and 2x screens: solid in its middle, clear in corners.
    const image = Tray.all[0]!.image;
    expect(image.representations.map((r) => [r.width, r.scaleFactor])).toEqual([
      [16, 1],
      [32, 2],
    ]);
    const big = image.representations[1]!.buffer;
    const alpha = (x: number, y: number) => big[(y * 32 + x) * 4 + 3];
    expect(alpha(0, 0)).toBe(0);
    expect(alpha(20, 16)).toBe(255);
  });

  it('uses a template tray image on macOS, so the menu bar can colour it', async () => {
    await launch({ os: 'darwin' });
    expect(Tray.all[0]!.image.template).toBe(true);
  });

  it('closes to the tray with the endpoint still serving; a second launch brings it back', async () => {
    const { desk, win } = await launch();
    await until('the window to show', () => win.visible);
    win.close();
    expect(win.destroyed).toBe(false);
    expect(win.visible).toBe(false);
    expect((await fetch(desk.core.endpoint!.url, { method: 'POST', body: '{}' })).status).toBe(401);
    app.emit('second-instance', {}, [], '');
    expect(win.visible).toBe(true);
    expect(win.focused).toBeGreaterThan(0);
  });

  it('starts hidden when launched at login', async () => {
    const { win } = await launch({ argv: ['electron', '.', '--hidden'] });
    await new Promise((r) => setTimeout(r, 100));
    expect(win.visible).toBe(false);
    expect(Tray.all).toHaveLength(1);
  });

  it('signs in from the tray through the broker, parented to a hidden window while ours is hidden', async () => {
    const { desk, broker, who, win } = await launch({ argv: ['electron', '.', '--hidden'] });
    expect(labels()).toEqual([
      'Signed out',
      '---',
      'Sign in…',
      '---',
      'Open MCP Valet',
      'Copy endpoint URL',
      'Open diagnostics log',
      'Start at login',
      '---',
      'Quit MCP Valet',
    ]);
    expect(Tray.all[0]!.tooltip).toBe('MCP Valet — signed out');

    await click('Sign in…');
    await until('the tray to show Adele', () => labels()[0]?.startsWith('Signed in as Adele'));
    const prompts = broker.calls.filter((c) => c.method === 'acquireTokenInteractive');
    expect(prompts).toHaveLength(1);
    const hiddenParent = BrowserWindow.all[1]!;
    expect(hiddenParent).not.toBe(win);
    expect(hiddenParent.visible).toBe(false);
    expect(prompts[0]!.windowHandle?.equals(hiddenParent.handle)).toBe(true);

    // From the window (Accounts → Add account), the prompt belongs to our window.
    await click('Open MCP Valet');
    expect(win.visible).toBe(true);
    who.user = alex;
    await desk.api.signIn({ method: 'auto' });
    await until('two accounts in the tray', () => labels().includes('Switch account'));
    const second = broker.calls.filter((c) => c.method === 'acquireTokenInteractive')[1];
    expect(second?.windowHandle?.equals(win.handle)).toBe(true);

    // Switching account from the tray.
    const active = (await desk.core.auth.activeAccount())!.username;
    const other = active === adele.username ? alex : adele;
    await click(other.username);
    await until('the switch', () => labels()[0]?.includes(other.username));
    expect((await desk.core.auth.activeAccount())?.username).toBe(other.username);
    expect(item(other.username)).toMatchObject({ type: 'radio', checked: true, enabled: false });

    // Sign out, through the core: the broker forgets the account too.
    await click('Sign out');
    await until('the sign-out', async () =>
      (await desk.core.auth.listAccounts()).every((a) => a.username !== other.username),
    );
    expect(broker.calls.some((c) => c.method === 'signOut')).toBe(true);
    await until('the tray to follow', () => !labels()[0]?.includes(other.username));
  });

  it('rebuilds the tray once for one sign-in, from one read of the accounts', async () => {
    const { broker } = await launch({ argv: ['electron', '.', '--hidden'] });
    const tray = Tray.all[0]!;
    await until('the menu', () => labels()[0] === 'Signed out');
    const menus = tray.menusSet;
    const reads = () => broker.calls.filter((c) => c.method === 'getAllAccounts').length;
    const readsBefore = reads();

    await click('Sign in…');
    await until('the tray to show Adele', () => labels()[0]?.startsWith('Signed in as Adele'));
    // Anything still on its way would land well within this.
    await new Promise((r) => setTimeout(r, 400));
    expect(tray.menusSet - menus).toBe(1);
    expect(reads() - readsBefore).toBe(1);
  });

  it('counts pending approvals in the tray, notifies, and opens them', async () => {
    const { desk, who, win } = await launch({ argv: ['electron', '.', '--hidden'] });
    who.user = adele;
    const body = 'The quarterly numbers are attached';
    const { call } = await signInAndSend(desk, body);
    await until('the tray to count it', () => labels().includes('1 approval waiting…'));
    expect(Tray.all[0]!.tooltip).toContain('1 waiting for approval');
    const note = platform.notifications.find(
      (n) => n.options.title === 'MCP Valet: approval needed',
    );
    expect(note?.options.body).toBe(`claude asks to send an email as ${adele.username}`);
    expect(JSON.stringify(platform.notifications.map((n) => n.options))).not.toContain(body);

    note!.click();
    expect(win.visible).toBe(true);
    expect(win.webContents.sent).toContainEqual({
      channel: 'valet:event',
      payload: { type: 'show-view', view: 'approvals' },
    });
    win.hide();
    await click('1 approval waiting…');
    expect(win.visible).toBe(true);

    const [pending] = await desk.api.listApprovals({});
    await desk.api.decideApproval({ id: pending!.id, decision: { kind: 'deny' } });
    expect((await call).isError).toBe(true);
    await until('the count to go', () => !labels().some((l) => l.includes('approval')));
  });

  it('notifies when a tool needs consent the user has not given', async () => {
    const { desk } = await launch({ env: { VALET_BROKER: 'off' } });
    const { step } = await signInUntil(
      desk.api,
      { method: 'device-code', scopes: ['User.Read'] },
      'device-code',
    );
    await fx.idp.approveDeviceCode(step.userCode, adele.username);
    await until('signed in', () => labels()[0]?.startsWith('Signed in as'));
    const created = await desk.api.createKey({
      name: 'vscode',
      tools: ['list_messages'],
      readOnly: true,
    });
    const { client } = await connectClient(desk.core.endpoint!.url, created.secret);
    const result = await client.callTool({ name: 'list_messages', arguments: {} });
    expect(result.isError).toBe(true);
    const note = await until('the notification', () =>
      platform.notifications.find((n) => n.options.title === 'MCP Valet: sign-in needed'),
    );
    expect(note.options.body).toContain('Mail.Read');
  });

  it('copies the endpoint URL, turns start at login on, and gives Claude Desktop this app to start', async () => {
    const { desk } = await launch();
    await click('Copy endpoint URL');
    expect(platform.clipboard).toBe(desk.core.endpoint!.url);

    expect(item('Start at login')).toMatchObject({ type: 'checkbox', checked: false });
    await click('Start at login');
    expect(platform.loginItems).toMatchObject({ openAtLogin: true, args: ['--hidden'] });
    await until('the checkmark', () => item('Start at login').checked === true);

    const who = await desk.api
      .signIn({ method: 'auto' })
      .then(() => until('signed in', () => labels()[0]?.startsWith('Signed in as')));
    expect(who).toBe(true);
    const created = await desk.api.createKey({
      name: 'claude',
      tools: ['auth_status'],
      readOnly: true,
    });
    const claude = JSON.parse(created.configs.claudeDesktop).mcpServers['mcp-valet'];
    expect(claude).toMatchObject({
      command: process.execPath,
      args: [app.getAppPath(), 'stdio'],
      env: { VALET_KEY: created.secret },
    });
  });

  it('has no login item on Linux, where the OS offers none', async () => {
    await launch({ os: 'linux' });
    expect(labels()).not.toContain('Start at login');
  });

  it('quits cleanly from the tray: sessions and endpoint closed, tray and IPC gone', async () => {
    const { desk } = await launch();
    const url = desk.core.endpoint!.url;
    await click('Quit MCP Valet');
    await until('the app to quit', () => platform.quitted);
    expect(platform.quitRequests).toBe(2);
    expect(Tray.all[0]!.destroyed).toBe(true);
    expect(ipcMain.handlers.size).toBe(0);
    await expect(fetch(url, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('keeps working when the endpoint port is taken, and says so', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const { desk } = await launch({ env: { VALET_PORT: String(port) } });
      const note = platform.notifications.find(
        (n) => n.options.title === 'MCP Valet: the endpoint did not start',
      );
      expect(note?.options.body).toContain(String(port));
      const log = readFileSync(desk!.diagnostics.path, 'utf8');
      expect(log).toMatch(new RegExp(` error the endpoint did not start: .*${port}`));
      expect((await desk.api.getStatus({})).endpoint.running).toBe(false);
      expect(item('Copy endpoint URL').enabled).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('keeps a diagnostics log in the data dir, opened from the tray, that holds no token, key or body', async () => {
    const { desk } = await launch({
      argv: ['electron', '.', '--hidden'],
      env: { VALET_LOG_LEVEL: 'debug' },
    });
    const path = desk.diagnostics.path;
    expect(path).toBe(join(desk.core.config.dataDir, 'logs', 'diagnostics.log'));
    const body = 'Body text that must stay out of every log';
    const { created, call } = await signInAndSend(desk, body);
    const [pending] = await until('the approval', async () => {
      const list = await desk.api.listApprovals({});
      return list.length ? list : undefined;
    });
    await desk.api.decideApproval({ id: pending!.id, decision: { kind: 'deny' } });
    await call;
    const token = await desk.core.auth.getToken({ scopes: ['User.Read'], forceRefresh: true });

    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/ info MCP Valet \S+ starting on win32 /);
    expect(text).toContain(`endpoint listening on ${desk.core.endpoint!.url}`);
    expect(text).toContain('msal:');
    for (const secret of [
      created.secret,
      created.secret.replace(/^mvk_[0-9a-f]{12}_/, ''),
      token.accessToken,
      body,
    ])
      expect(text).not.toContain(secret);
    if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600);

    await click('Open diagnostics log');
    expect(platform.openedPaths).toEqual([path]);
    // The Status view reads and opens the same file through the window's API.
    const shown = await desk.api.getDiagnostics({ lines: 200 });
    expect(shown).toMatchObject({ path, canOpen: true });
    expect(shown.recent.join('\n')).toContain(`endpoint listening on ${desk.core.endpoint!.url}`);
    for (const secret of [created.secret, token.accessToken, body])
      expect(shown.recent.join('\n')).not.toContain(secret);
    await desk.api.openDiagnostics({});
    expect(platform.openedPaths).toEqual([path, path]);
    app.quit();
    await until('the app to quit', () => platform.quitted);
    expect(readFileSync(path, 'utf8')).toMatch(/ info stopped\n$/);
  });

  it('explains a bad configuration and exits instead of starting half-way', async () => {
    const desk = await startDesktopApp({
      env: {
        VALET_DATA_DIR: await mkdtemp(join(tmpdir(), 'valet-desktop-')),
        VALET_CLIENT_ID: 'my-app',
      },
      argv: ['electron', '.'],
    });
    expect(desk).toBeUndefined();
    expect(platform.errorBoxes).toHaveLength(1);
    expect(platform.errorBoxes[0]!.content).toContain('VALET_CLIENT_ID');
    expect(platform.exitCode).toBe(1);
    expect(BrowserWindow.all).toHaveLength(0);
  });

  it('lets a second instance focus the first and leave', async () => {
    platform.lockHeldElsewhere = true;
    expect(await startDesktopApp({ argv: ['electron', '.'] })).toBeUndefined();
    expect(platform.quitRequests).toBe(1);
    expect(BrowserWindow.all).toHaveLength(0);
    expect(Tray.all).toHaveLength(0);
  });
});
