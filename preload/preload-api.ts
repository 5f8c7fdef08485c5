import {
  CALL_NAMES,
  callChannel,
  EVENT_CHANNEL,
  type AppApi,
  type AppErrorDto,
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
 * The AppApi as verbs over IPC: one function per contract call, plus subscribe. A failure
 * rejects with the core's AppErrorDto itself (code, message, the fields at fault): plain data
 * crosses the context bridge whole, where an Error would keep its message only. Listeners get
 * the event alone, never Electron's IpcRendererEvent (it would hand the page ipcRenderer itself).
 */
export function createPreloadApi(ipc: RendererIpc): AppApi {
  const verbs = Object.fromEntries(
    CALL_NAMES.map((name) => [
      name,
      async (request: unknown) => {
        const outcome = (await ipc.invoke(callChannel(name), request ?? {})) as CallOutcome;
        if (!outcome.ok) throw failure(outcome.error);
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

function failure(error: AppErrorDto): AppErrorDto {
  return {
    code: error.code,
    message: error.message,
    ...(error.fields ? { fields: [...error.fields] } : {}),
  };
}
