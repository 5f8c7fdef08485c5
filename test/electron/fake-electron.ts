// A fake `electron` module for the shell's tests (the suite aliases `electron` to this file).
// Electron's binary cannot run here, so this stands in for the parts the shell touches, with
// the behaviour the shell relies on: IPC structured-clones its values and tells the handler
// which webContents and frame sent a message; closing a window can be prevented; quitting runs
// `before-quit` listeners, which may postpone it.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** An event whose default action a listener may prevent, like Electron's. */
export interface PreventableEvent {
  defaultPrevented: boolean;
  preventDefault(): void;
}

function preventable<T extends object>(fields: T): T & PreventableEvent {
  return {
    ...fields,
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

/** Everything the shell did to the platform, for tests to inspect. */
export const platform = {
  opened: [] as string[],
  /** Files shell.openPath opened, as the OS would in their default app. */
  openedPaths: [] as string[],
  notifications: [] as FakeNotification[],
  clipboard: '',
  errorBoxes: [] as Array<{ title: string; content: string }>,
  exitCode: undefined as number | undefined,
  quitRequests: 0,
  quitted: false,
  loginItems: { openAtLogin: false, wasOpenedAtLogin: false, args: [] as string[] },
  lockHeldElsewhere: false,
  /** When set, shell.openExternal fails as on a machine with no browser to open links. */
  noBrowser: false,
  /** When set, `ready` waits for markReady(), as Electron waits for the entry module. */
  holdReady: false,
  schemes: [] as unknown[],
  protocolHandlers: new Map<string, (request: Request) => Response | Promise<Response>>(),
  exposed: new Map<string, unknown>(),
};

/** Puts the fake back to a fresh machine. */
export function resetFakeElectron(): void {
  platform.opened.length = 0;
  platform.openedPaths.length = 0;
  platform.notifications.length = 0;
  platform.clipboard = '';
  platform.errorBoxes.length = 0;
  platform.exitCode = undefined;
  platform.quitRequests = 0;
  platform.quitted = false;
  platform.loginItems = { openAtLogin: false, wasOpenedAtLogin: false, args: [] };
  platform.lockHeldElsewhere = false;
  platform.noBrowser = false;
  platform.holdReady = false;
  app.ready = false;
  platform.schemes.length = 0;
  platform.protocolHandlers.clear();
  platform.exposed.clear();
  BrowserWindow.all.length = 0;
  Tray.all.length = 0;
  ipcMain.reset();
  session.defaultSession.reset();
  app.removeAllListeners();
}

// ── Web contents, frames and windows ────────────────────────────────────────────────────────

/** A frame; subframes have their own URL. */
export class FakeFrame {
  url: string;

  constructor(url: string) {
    this.url = url;
  }
}

/** A window's web contents. */
export class FakeWebContents extends EventEmitter {
  readonly mainFrame = new FakeFrame('');
  /** Messages the main process sent to this page. */
  readonly sent: Array<{ channel: string; payload: unknown }> = [];
  windowOpenHandler: ((details: { url: string }) => { action: 'allow' | 'deny' }) | undefined;

  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'allow' | 'deny' }): void {
    this.windowOpenHandler = handler;
  }

  send(channel: string, payload: unknown): void {
    const copy = structuredClone(payload);
    this.sent.push({ channel, payload: copy });
    this.emit('renderer-message', channel, copy);
  }

  /** The page tries to navigate: returns whether the navigation went ahead. */
  navigate(
    url: string,
    kind: 'will-navigate' | 'will-redirect' | 'will-frame-navigate' = 'will-navigate',
  ): boolean {
    const event = preventable({ url });
    this.emit(kind, event);
    if (!event.defaultPrevented) this.mainFrame.url = url;
    return !event.defaultPrevented;
  }

  /** The page calls window.open: returns the handler's answer. */
  open(url: string): 'allow' | 'deny' {
    return this.windowOpenHandler?.({ url }).action ?? 'allow';
  }
}

let handles = 0;

/** A BrowserWindow that never draws. */
export class BrowserWindow extends EventEmitter {
  static readonly all: BrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly handle: Buffer;
  visible = false;
  destroyed = false;
  focused = 0;

  readonly options: { webPreferences?: object } & Record<string, unknown>;

  constructor(options: { webPreferences?: object } & Record<string, unknown>) {
    super();
    this.options = options;
    const handle = Buffer.alloc(8);
    handle.writeBigUInt64LE(BigInt(0x5a000 + ++handles));
    this.handle = handle;
    BrowserWindow.all.push(this);
  }

  async loadURL(url: string): Promise<void> {
    this.webContents.mainFrame.url = url;
    setImmediate(() => this.emit('ready-to-show'));
  }

  show(): void {
    this.visible = true;
  }

  hide(): void {
    this.visible = false;
  }

  focus(): void {
    this.focused++;
  }

  isVisible(): boolean {
    return this.visible;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  getNativeWindowHandle(): Buffer {
    return this.handle;
  }

  /** The user closes the window (unless a listener prevents it). */
  close(): void {
    const event = preventable({});
    this.emit('close', event);
    if (event.defaultPrevented) return;
    this.destroyed = true;
    this.visible = false;
    this.emit('closed');
  }
}

// ── IPC ─────────────────────────────────────────────────────────────────────────────────────

type Handler = (
  event: { sender: FakeWebContents; senderFrame: FakeFrame | null },
  ...args: unknown[]
) => unknown;

class FakeIpcMain {
  readonly handlers = new Map<string, Handler>();

  handle(channel: string, handler: Handler): void {
    if (this.handlers.has(channel))
      throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, handler);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  reset(): void {
    this.handlers.clear();
  }
}

/** The fake ipcMain. */
export const ipcMain = new FakeIpcMain();

/** An ipcRenderer as seen from one frame of one web contents. */
export function rendererFor(contents: FakeWebContents, frame: FakeFrame = contents.mainFrame) {
  const listeners = new Map<
    (event: unknown, payload: unknown) => void,
    (channel: string, payload: unknown) => void
  >();
  return {
    async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
      const handler = ipcMain.handlers.get(channel);
      if (!handler)
        throw new Error(`Error invoking remote method '${channel}': No handler registered`);
      const result = await handler(
        { sender: contents, senderFrame: frame },
        ...structuredClone(args),
      );
      return structuredClone(result);
    },
    on(channel: string, listener: (event: unknown, payload: unknown) => void) {
      const forward = (c: string, payload: unknown) => {
        if (c === channel) listener({ sender: 'the ipcRenderer object' }, payload);
      };
      listeners.set(listener, forward);
      contents.on('renderer-message', forward);
    },
    removeListener(_channel: string, listener: (event: unknown, payload: unknown) => void) {
      const forward = listeners.get(listener);
      if (forward) contents.off('renderer-message', forward);
      listeners.delete(listener);
    },
  };
}

/** The ipcRenderer the preload script imports; tests point it at a window first. */
export const ipcRenderer = {
  target: undefined as ReturnType<typeof rendererFor> | undefined,
  invoke: (channel: string, ...args: unknown[]) => ipcRenderer.target!.invoke(channel, ...args),
  on: (channel: string, listener: (event: unknown, payload: unknown) => void) =>
    ipcRenderer.target!.on(channel, listener),
  removeListener: (channel: string, listener: (event: unknown, payload: unknown) => void) =>
    ipcRenderer.target!.removeListener(channel, listener),
};

/** The fake contextBridge: records what the preload exposes. */
export const contextBridge = {
  exposeInMainWorld(key: string, api: unknown): void {
    platform.exposed.set(key, api);
  },
};

// ── Tray, menus, images, notifications ───────────────────────────────────────────────────────

/** A built menu: its template. */
export interface FakeMenu {
  items: Array<
    Record<string, unknown> & { label?: string; click?: () => void; submenu?: unknown[] }
  >;
}

/** The fake Menu. */
export const Menu = {
  buildFromTemplate(template: FakeMenu['items']): FakeMenu {
    return { items: template };
  },
};

/** A tray icon. */
export class Tray {
  static readonly all: Tray[] = [];
  menu: FakeMenu | undefined;
  /** How many times a context menu was set: each is a rebuild the user may see flicker. */
  menusSet = 0;
  tooltip = '';
  destroyed = false;

  readonly image: FakeImage;

  constructor(image: FakeImage) {
    this.image = image;
    Tray.all.push(this);
  }

  setContextMenu(menu: FakeMenu): void {
    this.menu = menu;
    this.menusSet++;
  }

  setToolTip(tooltip: string): void {
    this.tooltip = tooltip;
  }

  destroy(): void {
    this.destroyed = true;
  }
}

/** A native image made from bitmaps. */
export class FakeImage {
  readonly representations: Array<{
    scaleFactor: number;
    width: number;
    height: number;
    buffer: Buffer;
  }> = [];
  template = false;

  addRepresentation(rep: {
    scaleFactor: number;
    width: number;
    height: number;
    buffer: Buffer;
  }): void {
    this.representations.push(rep);
  }

  setTemplateImage(on: boolean): void {
    this.template = on;
  }
}

/** The fake nativeImage. */
export const nativeImage = {
  createFromBitmap(
    buffer: Buffer,
    options: { width: number; height: number; scaleFactor?: number },
  ): FakeImage {
    if (buffer.length !== options.width * options.height * 4)
      throw new Error('Bitmap size does not match width and height');
    const image = new FakeImage();
    image.addRepresentation({ scaleFactor: options.scaleFactor ?? 1, ...options, buffer });
    return image;
  },
};

/** A desktop notification. */
export class FakeNotification extends EventEmitter {
  readonly options: { title: string; body: string };

  constructor(options: { title: string; body: string }) {
    super();
    this.options = options;
  }

  static isSupported(): boolean {
    return true;
  }

  show(): void {
    platform.notifications.push(this);
  }

  click(): void {
    this.emit('click');
  }
}
export { FakeNotification as Notification };

// ── Session, protocol, shell, clipboard, dialog ─────────────────────────────────────────────

class FakeSession {
  permissionRequest:
    ((contents: unknown, permission: string, callback: (ok: boolean) => void) => void) | undefined;
  permissionCheck: ((...args: unknown[]) => boolean) | undefined;
  devicePermission: ((...args: unknown[]) => boolean) | undefined;
  headersReceived:
    | ((
        details: { responseHeaders?: Record<string, string[]> },
        callback: (r: { responseHeaders: Record<string, string[]> }) => void,
      ) => void)
    | undefined;
  readonly webRequest = {
    onHeadersReceived: (listener: FakeSession['headersReceived']) => {
      this.headersReceived = listener;
    },
  };

  setPermissionRequestHandler(handler: FakeSession['permissionRequest']): void {
    this.permissionRequest = handler;
  }

  setPermissionCheckHandler(handler: FakeSession['permissionCheck']): void {
    this.permissionCheck = handler;
  }

  setDevicePermissionHandler(handler: FakeSession['devicePermission']): void {
    this.devicePermission = handler;
  }

  /** A page asks for a permission: resolves with the answer. */
  requestPermission(permission: string): Promise<boolean> {
    return new Promise((resolve) => {
      if (!this.permissionRequest) return resolve(true);
      this.permissionRequest({}, permission, resolve);
    });
  }

  reset(): void {
    this.permissionRequest = undefined;
    this.permissionCheck = undefined;
    this.devicePermission = undefined;
    this.headersReceived = undefined;
  }
}

/** The fake session module. */
export const session = { defaultSession: new FakeSession() };

/** The fake protocol module. */
export const protocol = {
  registerSchemesAsPrivileged(schemes: unknown[]): void {
    if (app.ready)
      throw new Error('registerSchemesAsPrivileged must be called before app is ready');
    platform.schemes.push(...schemes);
  },
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void {
    platform.protocolHandlers.set(scheme, handler);
  },
};

/** The fake shell. */
export const shell = {
  async openExternal(url: string): Promise<void> {
    if (platform.noBrowser) throw new Error('No application is registered to open https links');
    platform.opened.push(url);
  },
  /** Like Electron: resolves with an error text, empty on success. */
  async openPath(path: string): Promise<string> {
    if (!existsSync(path)) return `${path} does not exist`;
    platform.openedPaths.push(path);
    return '';
  },
};

/** The fake clipboard. */
export const clipboard = {
  writeText(text: string): void {
    platform.clipboard = text;
  },
};

/** The fake dialog. */
export const dialog = {
  showErrorBox(title: string, content: string): void {
    platform.errorBoxes.push({ title, content });
  },
};

// ── app ─────────────────────────────────────────────────────────────────────────────────────

class FakeApp extends EventEmitter {
  isPackaged = false;
  dock = undefined;

  requestSingleInstanceLock(): boolean {
    return !platform.lockHeldElsewhere;
  }

  ready = false;
  #readyWaiters: Array<() => void> = [];

  whenReady(): Promise<void> {
    if (this.ready || !platform.holdReady) {
      this.ready = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Electron is ready (with holdReady, only after the entry module has evaluated). */
  markReady(): void {
    this.ready = true;
    for (const resolve of this.#readyWaiters.splice(0)) resolve();
  }

  getVersion(): string {
    return '0.0.0-test';
  }

  getAppPath(): string {
    return fileURLToPath(new URL('../..', import.meta.url));
  }

  getLoginItemSettings(): { openAtLogin: boolean; wasOpenedAtLogin: boolean } {
    return { ...platform.loginItems };
  }

  setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void {
    platform.loginItems = {
      ...platform.loginItems,
      openAtLogin: settings.openAtLogin,
      args: settings.args ?? [],
    };
  }

  /** Like Electron: `before-quit` listeners may prevent it; otherwise the app quits. */
  quit(): void {
    platform.quitRequests++;
    const event = preventable({});
    this.emit('before-quit', event);
    if (event.defaultPrevented) return;
    platform.quitted = true;
    this.emit('will-quit', preventable({}));
  }

  exit(code = 0): void {
    platform.exitCode = code;
    platform.quitted = true;
  }
}

/** The fake app. */
export const app = new FakeApp();
