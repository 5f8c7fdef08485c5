// ┌──────────────────────────────────────────────────────────────────────────────┐
// │ SECURITY: everything that keeps the window's web content contained lives here.│
// │ contextIsolation, sandbox, no Node integration, a strict CSP, navigation and  │
// │ window.open limited to the app itself, every permission denied, and           │
// │ openExternal for https only. Change with care; tests cover each guard.        │
// └──────────────────────────────────────────────────────────────────────────────┘
import { shell, type BrowserWindow, type Session, type WebPreferences } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../core/web/csp.ts';

/** The scheme and host the window's own pages are served from (see app-protocol.ts). */
export const APP_SCHEME = 'app';
/** The window's own origin; nothing else may load in it. */
export const APP_ORIGIN = `${APP_SCHEME}://valet`;

/** The only web preferences the window is ever created with. */
export function webPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/** Whether a URL is one of the app's own pages. */
export function isAppUrl(url: string): boolean {
  // Compared by parts: Node's URL gives a non-special scheme the opaque origin "null".
  try {
    const parsed = new URL(url);
    return (
      parsed.protocol === `${APP_SCHEME}:` &&
      parsed.host === 'valet' &&
      parsed.username === '' &&
      parsed.password === ''
    );
  } catch {
    return false;
  }
}

/** Opens a link in the system browser, https only: never file:, http:, or a custom scheme. */
export async function openExternalSafely(url: string): Promise<boolean> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:') return false;
  await shell.openExternal(parsed.href);
  return true;
}

/** Applies the guards to a window: navigation, new windows, webviews. */
export function guardWindow(win: BrowserWindow): void {
  const contents = win.webContents;
  const stayInApp = (event: { preventDefault(): void; url: string }) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  };
  contents.on('will-navigate', stayInApp);
  contents.on('will-redirect', stayInApp);
  contents.on('will-frame-navigate', stayInApp);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // No new Electron windows, ever. An https link (the sign-in page, a Graph webLink) goes to
  // the system browser instead.
  contents.setWindowOpenHandler(({ url }) => {
    void openExternalSafely(url);
    return { action: 'deny' };
  });
}

/** Denies every permission (camera, notifications from the page, geolocation, …) and sets the CSP. */
export function guardSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
      },
    });
  });
}
