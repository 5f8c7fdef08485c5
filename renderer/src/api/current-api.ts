import { CALL_NAMES, type AppApi, type AppEventDto } from '../../../preload/contract.ts';
import { toAppApiError } from './app-api-error.ts';
import { createWebBridgeClient } from './web-bridge-client.ts';
import { openWebSession } from './web-session.ts';

declare global {
  interface Window {
    /** The AppApi the Electron preload exposes; absent in a browser. */
    valet?: AppApi;
  }
}

/**
 * The preload's verbs, failing with AppApiError as the web bridge client does: the preload
 * rejects with the core's error as plain data, which this turns back into an Error.
 */
export function fromPreload(valet: AppApi): AppApi {
  const verbs = Object.fromEntries(
    CALL_NAMES.map((name) => {
      const call = valet[name] as (request: unknown) => Promise<unknown>;
      return [
        name,
        (request: unknown) =>
          call(request).catch((error: unknown) => {
            throw toAppApiError(error);
          }),
      ];
    }),
  );
  return {
    ...verbs,
    subscribe: (listener: (event: AppEventDto) => void) => valet.subscribe(listener),
  } as AppApi;
}

/**
 * The AppApi of this window: the preload bridge in Electron, or in a browser the web bridge,
 * once the page has opened its session (from the link it was opened with).
 */
export async function currentApi(): Promise<AppApi> {
  return window.valet ? fromPreload(window.valet) : createWebBridgeClient(await openWebSession());
}
