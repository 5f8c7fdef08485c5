import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { registerAppScheme, serveAppScheme } from '../../main/electron/app-protocol.ts';
import {
  APP_ORIGIN,
  guardSession,
  guardWindow,
  openExternalSafely,
  webPreferences,
} from '../../main/electron/window-security.ts';
import { BrowserWindow, platform, resetFakeElectron, session } from './fake-electron.ts';

beforeEach(() => resetFakeElectron());

function guarded(): BrowserWindow {
  const win = new BrowserWindow({ webPreferences: webPreferences('/app/preload.cjs') });
  guardWindow(win as never);
  void win.loadURL(`${APP_ORIGIN}/`);
  return win;
}

describe('the window security block', () => {
  it('isolates the page: context isolation, sandbox, no Node, no webviews', () => {
    expect(webPreferences('/app/preload.cjs')).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('keeps navigation inside the app', () => {
    const win = guarded();
    expect(win.webContents.navigate('https://evil.example/phish')).toBe(false);
    expect(win.webContents.navigate('file:///etc/passwd')).toBe(false);
    expect(win.webContents.navigate('http://127.0.0.1:47652/', 'will-redirect')).toBe(false);
    expect(win.webContents.navigate('app://valet.evil/', 'will-frame-navigate')).toBe(false);
    expect(win.webContents.mainFrame.url).toBe(`${APP_ORIGIN}/`);
    expect(win.webContents.navigate(`${APP_ORIGIN}/index.html`)).toBe(true);
  });

  it('denies window.open, sending https links to the system browser and nothing else', async () => {
    const win = guarded();
    expect(win.webContents.open('https://learn.microsoft.com/graph')).toBe('deny');
    expect(win.webContents.open('file:///etc/passwd')).toBe('deny');
    expect(win.webContents.open(`${APP_ORIGIN}/`)).toBe('deny');
    await new Promise((r) => setImmediate(r));
    expect(platform.opened).toEqual(['https://learn.microsoft.com/graph']);
  });

  it('opens https only: file:, http: and custom schemes are refused', async () => {
    for (const url of [
      'file:///C:/Windows/System32/calc.exe',
      'http://login.microsoftonline.com/',
      'javascript:alert(1)',
      'ms-settings:privacy',
      'not a url',
    ])
      expect(await openExternalSafely(url), url).toBe(false);
    expect(await openExternalSafely('https://login.microsoftonline.com/common')).toBe(true);
    expect(platform.opened).toEqual(['https://login.microsoftonline.com/common']);
  });

  it('denies every permission request and check, and sets the CSP on every response', async () => {
    guardSession(session.defaultSession as never);
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
    ])
      expect(await session.defaultSession.requestPermission(permission), permission).toBe(false);
    expect(session.defaultSession.permissionCheck?.()).toBe(false);
    expect(session.defaultSession.devicePermission?.()).toBe(false);
    const headers = await new Promise<Record<string, string[]>>((resolve) =>
      session.defaultSession.headersReceived!({ responseHeaders: { 'x-a': ['1'] } }, (r) =>
        resolve(r.responseHeaders),
      ),
    );
    expect(headers['x-a']).toEqual(['1']);
    expect(headers['Content-Security-Policy']?.[0]).toContain("default-src 'none'");
    expect(headers['Content-Security-Policy']?.[0]).not.toContain('unsafe-eval');
  });

  it('serves only the built window on app://, with its CSP, and nothing outside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'valet-app-scheme-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>MCP Valet</title>');
    await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(join(tmpdir(), 'valet-outside.txt'), 'secret');
    registerAppScheme();
    expect(platform.schemes).toEqual([
      { scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) },
    ]);
    serveAppScheme(dir);
    const handler = platform.protocolHandlers.get('app')!;
    const index = await handler(new Request(`${APP_ORIGIN}/`));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('MCP Valet');
    expect(
      (await handler(new Request(`${APP_ORIGIN}/assets/app.js`))).headers.get('content-type'),
    ).toContain('javascript');
    for (const path of ['/../valet-outside.txt', '/%2e%2e/valet-outside.txt', '/missing.js'])
      expect((await handler(new Request(`${APP_ORIGIN}${path}`))).status, path).toBe(404);
  });
});
