import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError } from '@azure/msal-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppEventDto } from '../../preload/contract.ts';
import { startDesktopApp, type DesktopApp } from '../../main/electron/desktop-app.ts';
import { startWebBridge, type WebBridge } from '../../main/core/web/web-bridge.ts';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { BrowserUser, idpEnv } from '../support/auth.ts';
import { newUserContext } from '../support/browser.ts';
import { BrokerDouble } from '../support/broker-double.ts';
import { useIdpAndBrowser } from '../support/fixtures.ts';
import { app, BrowserWindow, platform, resetFakeElectron, Tray } from './fake-electron.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useIdpAndBrowser();
let desk: DesktopApp | undefined;
let bridge: WebBridge | undefined;

beforeEach(() => resetFakeElectron());
afterEach(async () => {
  await bridge?.close();
  if (desk && !platform.quitted) {
    app.quit();
    await until('the app to quit', () => platform.quitted);
  }
  desk = undefined;
});

async function until<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('sign-in falling back to a device code in the desktop app', () => {
  it('shows the code in the window and in a notification when the broker fails and no browser opens', async () => {
    // A broker that fails, and a machine where no browser can be opened.
    const broker = new BrokerDouble(fx.idp, new BrowserUser(fx.browser).opener(adele));
    broker.failInteractive = new AuthError('platform_broker_error', '', 'WAM reported 0x80070520');
    platform.noBrowser = true;
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-fallback-'));
    desk = await startDesktopApp({
      env: idpEnv(fx.idp, dataDir, { VALET_PORT: '0', VALET_BROKER: 'on' }),
      argv: ['electron', '.', '--hidden'],
      platform: 'win32',
      core: { brokerLoader: async () => broker, platform: 'win32' },
    });
    const ipcWindow = BrowserWindow.all[0]!;

    // The real window, in Chromium, on the desktop app's own AppApi.
    bridge = await startWebBridge(desk!.api);
    const page = await (await newUserContext(fx.browser)).newPage();
    await page.goto(bridge.url);
    await page.getByText('Nobody is signed in').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    // The window shows the code, where to enter it, and for how long.
    const code = page.locator('.user-code code');
    await code.waitFor({ timeout: 15_000 });
    const userCode = (await code.textContent())!;
    expect(userCode).toMatch(/^[A-Z0-9-]{6,}$/);
    expect(await page.getByRole('link', { name: /\/device/ }).getAttribute('href')).toContain(
      fx.idp.origin,
    );
    expect(await page.getByText(/The code expires in \d+ min/).isVisible()).toBe(true);

    // The Electron window got the same steps on its IPC channel, in order.
    const steps = () =>
      ipcWindow.webContents.sent
        .map((m) => m.payload as AppEventDto)
        .flatMap((e) => (e.type === 'sign-in-progress' ? [e.step] : []));
    expect(steps().map((s) => s.kind)).toEqual(['broker', 'browser', 'device-code']);
    expect(steps()[2]).toMatchObject({ kind: 'device-code', userCode });

    // So did the tray: a notification with the code, that opens the window.
    const note = platform.notifications.find((n) => n.options.body.includes(userCode));
    expect(note?.options.title).toBe('MCP Valet: enter a code to sign in');
    note!.click();
    expect(ipcWindow.visible).toBe(true);

    // The person enters the code at the identity provider: the window and tray follow.
    await fx.idp.approveDeviceCode(userCode, adele.username);
    await page.getByText(adele.username).first().waitFor({ timeout: 15_000 });
    expect(await code.count()).toBe(0);
    await until('the tray', () =>
      String(Tray.all[0]!.menu?.items[0]?.label).startsWith('Signed in as'),
    );
    expect(steps().map((s) => s.kind)).toEqual(['broker', 'browser', 'device-code', 'finished']);
  });
});
