import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  session,
  shell,
  Tray,
  type MenuItemConstructorOptions,
  type NativeImage,
} from 'electron';
import type { AppApi, StatusDto } from '../../preload/contract.ts';
import { createAppApi } from '../core/app/app-api.ts';
import type { SelfCommand } from '../core/app/client-configs.ts';
import { ValetCore, type ValetCoreOptions } from '../core/app/valet-core.ts';
import { loadConfig } from '../core/config/load-config.ts';
import { openFileLogger, type FileLogger } from '../core/util/file-logger.ts';
import { createStderrLogger } from '../core/util/logger.ts';
import { describeError } from '../core/util/valet-error.ts';
import { rendererDir } from '../core/web/web-bridge.ts';
import { registerAppScheme, serveAppScheme } from './app-protocol.ts';
import { bindIpc, type IpcBinding } from './ipc.ts';
import { keyGlyph } from './tray-icon.ts';
import {
  trayMenu,
  trayState,
  trayTooltip,
  type TrayCommand,
  type TrayMenuItem,
  type TrayState,
} from './tray-menu-model.ts';
import {
  APP_ORIGIN,
  guardSession,
  guardWindow,
  openExternalSafely,
  webPreferences,
} from './window-security.ts';

/** How to start the desktop app; the defaults are the real machine's. */
export interface DesktopOptions {
  env?: NodeJS.ProcessEnv;
  argv?: string[];
  /** Extra core options, such as a broker loader. */
  core?: Partial<ValetCoreOptions>;
  /** The OS the tray adapts to (template icon on macOS, no login item on Linux). */
  platform?: NodeJS.Platform;
}

/** The running desktop app, as the tray, the window and tests reach it. */
export interface DesktopApp {
  core: ValetCore;
  api: AppApi;
  tray: Tray;
  /** The diagnostics log in the data dir (a packaged app has no stderr to read). */
  diagnostics: FileLogger;
  /** The main window (hidden while MCP Valet lives in the tray). */
  window(): BrowserWindow;
  /** The current tray state, as the menu was last built from. */
  trayState(): TrayState;
  /** Runs a tray command as if its menu item were clicked. */
  run(command: TrayCommand): Promise<void>;
  /** Rebuilds the tray menu now from the last status. */
  refreshTray(): void;
}

/** The compiled preload script: next to the compiled main, or in dist/ from the sources. */
export function preloadPath(): string {
  const candidates = ['../../preload/index.cjs', '../../dist/preload/index.cjs'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

/**
 * How Claude Desktop starts this app as its stdio bridge: the app's own executable with
 * `stdio` (from a checkout, Electron with the app's folder first). RunAsNode is fused off,
 * so the app handles `stdio` itself (see index.ts).
 */
export function desktopSelfCommand(): SelfCommand {
  return { command: process.execPath, args: app.isPackaged ? [] : [app.getAppPath()] };
}

function trayImage(os: NodeJS.Platform): NativeImage {
  // A template image on macOS (the menu bar colours it); the brand blue elsewhere.
  const mac = os === 'darwin';
  const rgb: [number, number, number] = mac ? [0, 0, 0] : [37, 99, 235];
  const image = nativeImage.createFromBitmap(keyGlyph(16, rgb), { width: 16, height: 16 });
  image.addRepresentation({ scaleFactor: 2, width: 32, height: 32, buffer: keyGlyph(32, rgb) });
  if (mac) image.setTemplateImage(true);
  return image;
}

function menuTemplate(
  items: TrayMenuItem[],
  run: (command: TrayCommand) => void,
): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    switch (item.type) {
      case 'separator':
        return { type: 'separator' };
      case 'label':
        return { label: item.label, enabled: false };
      case 'submenu':
        return { label: item.label, submenu: menuTemplate(item.items, run) };
      case 'item':
        return {
          label: item.label,
          enabled: item.enabled ?? true,
          ...(item.choice ? { type: item.choice.kind, checked: item.choice.checked } : {}),
          click: () => run(item.command),
        };
    }
  });
}

function notify(title: string, body: string, onClick?: () => void): void {
  if (!Notification.isSupported()) return;
  const note = new Notification({ title, body, silent: false });
  if (onClick) note.on('click', onClick);
  note.show();
}

/**
 * The desktop composition root: one instance per user, the core with the OS token cache and
 * broker, the endpoint, the window behind its security block, typed IPC, and the tray. The
 * window closes to the tray (the endpoint keeps serving); Quit closes every session and the
 * audit log before the process ends. Returns undefined when another instance already runs
 * (that one is focused instead) or the app cannot start (the user is told why).
 */
export async function startDesktopApp(
  options: DesktopOptions = {},
): Promise<DesktopApp | undefined> {
  const env = options.env ?? process.env;
  const argv = options.argv ?? process.argv;
  const os = options.platform ?? process.platform;
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return undefined;
  }
  registerAppScheme();
  await app.whenReady();
  const stderr = createStderrLogger(env.VALET_LOG_LEVEL);

  let core: ValetCore;
  let logger: FileLogger | undefined;
  try {
    const config = await loadConfig(env);
    logger = openFileLogger({ dataDir: config.dataDir, level: env.VALET_LOG_LEVEL, echo: stderr });
    logger.info(
      `MCP Valet ${app.getVersion()} starting on ${os} (${app.isPackaged ? 'installed' : 'from a checkout'}), data dir ${config.dataDir}`,
    );
    const log = logger;
    core = await ValetCore.create({
      config,
      logger,
      env,
      openBrowser: async (url) => {
        if (!(await openExternalSafely(url)))
          throw new Error('The sign-in page is not an https URL; MCP Valet only opens https links');
      },
      onCacheRecovered: (r) => {
        log.warn(`the token cache was damaged (${r.reason}) and was set aside`);
        notify(
          'MCP Valet: token cache reset',
          `The token cache was damaged (${r.reason}) and was set aside. Sign in again if asked.`,
        );
      },
      ...options.core,
    });
  } catch (err) {
    logger?.error(`cannot start: ${describeError(err)}`);
    logger?.close();
    dialog.showErrorBox('MCP Valet cannot start', describeError(err));
    app.exit(1);
    return undefined;
  }

  const diagnostics = logger;
  // Watched, not handled: the crash still happens as Electron does it, with its cause on disk.
  const onCrash = (err: Error, origin: string): void =>
    diagnostics.error(`${origin}: ${describeError(err)}`);
  process.on('uncaughtExceptionMonitor', onCrash);
  {
    const cache = core.auth.cache.state;
    diagnostics.info(`token cache: ${cache.kind}${cache.reason ? ` (${cache.reason})` : ''}`);
  }

  guardSession(session.defaultSession);
  serveAppScheme(rendererDir());

  let quitting = false;
  let hiddenParent: BrowserWindow | undefined;
  const win = new BrowserWindow({
    width: 1040,
    height: 720,
    minWidth: 720,
    minHeight: 520,
    show: false,
    title: 'MCP Valet',
    autoHideMenuBar: true,
    webPreferences: webPreferences(preloadPath()),
  });
  guardWindow(win);
  // Close hides: the endpoint and the tray keep serving until Quit.
  win.on('close', (event) => {
    if (quitting) return;
    event.preventDefault();
    win.hide();
  });
  const startHidden = argv.includes('--hidden') || app.getLoginItemSettings().wasOpenedAtLogin;
  if (!startHidden) win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/`);

  // The broker's prompt (WAM) needs a parent window: ours when it shows, else a hidden one,
  // so a sign-in from the tray still gets a properly owned prompt.
  const windowHandle = (): Buffer => {
    if (!win.isDestroyed() && win.isVisible()) return win.getNativeWindowHandle();
    hiddenParent ??= new BrowserWindow({
      show: false,
      width: 1,
      height: 1,
      frame: false,
      skipTaskbar: true,
      webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false },
    });
    return hiddenParent.getNativeWindowHandle();
  };

  // Electron's openPath answers with an error text rather than throwing.
  const openDiagnostics = async (): Promise<void> => {
    const failure = await shell.openPath(diagnostics.path);
    if (failure) throw new Error(`Cannot open ${diagnostics.path}: ${failure}`);
  };
  const api = createAppApi(core, {
    shell: 'desktop',
    windowHandle,
    selfCommand: desktopSelfCommand(),
    diagnostics: {
      path: diagnostics.path,
      recent: (lines) => diagnostics.recent(lines),
      open: openDiagnostics,
    },
  });
  const ipc: IpcBinding = bindIpc(ipcMain, api, () => win);

  const show = (view?: 'approvals' | 'status') => {
    if (win.isDestroyed()) return;
    win.show();
    win.focus();
    if (view) ipc.push({ type: 'show-view', view });
  };
  app.on('second-instance', () => show());

  // The tray reads the one status snapshot and acts through the AppApi, like the window.
  const tray = new Tray(trayImage(os));
  let status: StatusDto | undefined;
  const state = (of: StatusDto): TrayState =>
    trayState(of, os === 'linux' ? undefined : app.getLoginItemSettings().openAtLogin);
  const run = async (command: TrayCommand): Promise<void> => {
    try {
      switch (command.kind) {
        case 'sign-in':
          await api.signIn({ method: 'auto' });
          break;
        case 'sign-out':
          await api.signOut({});
          break;
        case 'use-account':
          await api.useAccount({ account: command.homeAccountId });
          break;
        case 'open':
          show(command.view);
          break;
        case 'copy-endpoint':
          if (status?.endpoint.url) clipboard.writeText(status.endpoint.url);
          break;
        case 'open-diagnostics':
          await openDiagnostics();
          break;
        case 'start-at-login':
          app.setLoginItemSettings({ openAtLogin: command.enabled, args: ['--hidden'] });
          // The one part of the menu that is not in the status.
          refreshTray();
          break;
        case 'quit':
          app.quit();
          return;
      }
    } catch (err) {
      notify('MCP Valet', describeError(err));
    }
  };
  const refreshTray = (): void => {
    // Before the first status there is nothing to show; it comes before startDesktopApp returns.
    if (quitting || !status) return;
    const current = state(status);
    tray.setToolTip(trayTooltip(current));
    tray.setContextMenu(
      Menu.buildFromTemplate(menuTemplate(trayMenu(current), (c) => void run(c))),
    );
  };
  api.subscribe((event) => {
    switch (event.type) {
      case 'status-changed':
        status = event.status;
        refreshTray();
        break;
      case 'approval-requested': {
        const { approval } = event;
        notify(
          'MCP Valet: approval needed',
          `${approval.key.name} asks to ${approval.action.toLowerCase()} as ${approval.account}`,
          () => show('approvals'),
        );
        break;
      }
      case 'sign-in-progress': {
        // A sign-in started from the tray may have no window in sight: the code must reach
        // the person wherever they look.
        const { step } = event;
        if (step.kind === 'device-code')
          notify(
            'MCP Valet: enter a code to sign in',
            `Go to ${step.verificationUri} and enter ${step.userCode}`,
            () => show('status'),
          );
        else if (step.kind === 'failed') {
          diagnostics.warn(`sign-in failed: ${step.message}`);
          notify('MCP Valet: sign-in failed', step.message);
        }
        break;
      }
    }
  });
  core.auth.on('interaction-required', ({ scopes }) =>
    notify(
      'MCP Valet: sign-in needed',
      scopes.length
        ? `A tool needs consent to ${scopes.join(', ')}: open MCP Valet to grant it`
        : 'Your session has ended: open MCP Valet to sign in again',
      () => show('status'),
    ),
  );

  try {
    await core.startEndpoint();
    diagnostics.info(`endpoint listening on ${core.endpoint?.url ?? 'no address'}`);
  } catch (err) {
    diagnostics.error(`the endpoint did not start: ${describeError(err)}`);
    // The window and the tray still work; the status view says the endpoint is not running.
    notify('MCP Valet: the endpoint did not start', describeError(err), () => show('status'));
  }
  status = await api.getStatus({});
  refreshTray();

  // Quit (tray, menu, OS) closes every MCP session and the audit log before the process ends.
  let closed = false;
  app.on('before-quit', (event) => {
    quitting = true;
    if (closed) return;
    event.preventDefault();
    void (async () => {
      ipc.dispose();
      tray.destroy();
      await core
        .close()
        .catch((err: unknown) => diagnostics.error(`shutdown: ${describeError(err)}`));
      diagnostics.info('stopped');
      process.off('uncaughtExceptionMonitor', onCrash);
      diagnostics.close();
      closed = true;
      app.quit();
    })();
  });
  // Keep running in the tray when the window is closed.
  app.on('window-all-closed', () => undefined);

  return {
    core,
    api,
    tray,
    diagnostics,
    window: () => win,
    trayState: () => state(status!),
    run,
    refreshTray,
  };
}
