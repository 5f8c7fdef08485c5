import type { BrowserWindow, IpcMain, IpcMainInvokeEvent } from 'electron';
import {
  CALL_NAMES,
  callChannel,
  EVENT_CHANNEL,
  type AppApi,
  type CallOutcome,
} from '../../preload/contract.ts';
import { dispatchCall } from '../core/app/dispatch-call.ts';
import { isAppUrl } from './window-security.ts';

/** The IPC wiring of one window; dispose() removes every handler and the event feed. */
export interface IpcBinding {
  dispose(): void;
}

/**
 * Whether an IPC message comes from our window's main frame showing one of our own pages.
 * Anything else (another window, a subframe, a page that got there somehow) is refused.
 */
export function isTrustedSender(
  event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>,
  win: BrowserWindow | undefined,
): boolean {
  if (!win || win.isDestroyed()) return false;
  const frame = event.senderFrame;
  return (
    event.sender === win.webContents &&
    frame !== null &&
    frame === win.webContents.mainFrame &&
    isAppUrl(frame.url)
  );
}

/**
 * The one module that owns ipcMain: a handler per contract call, each checking the sender and
 * validating its arguments (dispatchCall), and the core's events pushed to the window.
 */
export function bindIpc(
  ipcMain: IpcMain,
  api: AppApi,
  window: () => BrowserWindow | undefined,
): IpcBinding {
  for (const name of CALL_NAMES) {
    ipcMain.handle(callChannel(name), async (event, raw: unknown): Promise<CallOutcome> => {
      if (!isTrustedSender(event, window()))
        return {
          ok: false,
          error: { code: 'forbidden', message: `${name} is only answered to the MCP Valet window` },
        };
      return dispatchCall(api, name, raw);
    });
  }
  const unsubscribe = api.subscribe((event) => {
    const win = window();
    if (win && !win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event);
  });
  return {
    dispose() {
      unsubscribe();
      for (const name of CALL_NAMES) ipcMain.removeHandler(callChannel(name));
    },
  };
}
