import type { BrowserWindow, IpcMain, IpcMainInvokeEvent } from 'electron';
import {
  CALL_NAMES,
  callChannel,
  EVENT_CHANNEL,
  type AppApi,
  type AppEventDto,
  type CallOutcome,
} from '../../preload/contract.ts';
import { dispatchCall } from '../core/app/dispatch-call.ts';
import { isAppUrl } from './window-security.ts';

/** The IPC wiring of one window; dispose() removes every handler and the event feed. */
export interface IpcBinding {
  /** Sends an event of the shell's own (a view to show) to the window, as the core's go. */
  push(event: AppEventDto): void;
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
 * The one module that owns ipcMain and the event channel: a handler per contract call, each
 * checking the sender and validating its arguments (dispatchCall), and every event the window
 * gets (the core's, and the shell's through push) sent from here.
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
  const push = (event: AppEventDto) => {
    const win = window();
    if (win && !win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event);
  };
  const unsubscribe = api.subscribe(push);
  return {
    push,
    dispose() {
      unsubscribe();
      for (const name of CALL_NAMES) ipcMain.removeHandler(callChannel(name));
    },
  };
}
