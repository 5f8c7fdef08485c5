import {
  CALL_NAMES,
  callChannel,
  EVENT_CHANNEL,
  type AppApi,
  type AppEventDto,
  type CallOutcome,
} from './contract.ts';

/** The part of ipcRenderer the preload uses; it never leaves this module. */
export interface RendererIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/**
 * The AppApi as verbs over IPC: one function per contract call, plus subscribe. Failures
 * arrive as data and are thrown here as plain Errors carrying the core's message, which is
 * what survives the context bridge. Listeners get the event alone, never Electron's
 * IpcRendererEvent (it would hand the page ipcRenderer itself).
 */
export function createPreloadApi(ipc: RendererIpc): AppApi {
  const verbs = Object.fromEntries(
    CALL_NAMES.map((name) => [
      name,
      async (request: unknown) => {
        const outcome = (await ipc.invoke(callChannel(name), request ?? {})) as CallOutcome;
        if (!outcome.ok) throw new Error(outcome.error.message);
        return outcome.result;
      },
    ]),
  );
  const subscribe = (listener: (event: AppEventDto) => void) => {
    const forward = (_event: unknown, payload: unknown) => listener(payload as AppEventDto);
    ipc.on(EVENT_CHANNEL, forward);
    return () => {
      ipc.removeListener(EVENT_CHANNEL, forward);
    };
  };
  return Object.freeze({ ...verbs, subscribe }) as unknown as AppApi;
}
