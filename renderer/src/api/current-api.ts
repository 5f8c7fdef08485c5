import type { AppApi } from '../../../preload/contract.ts';
import { createWebBridgeClient } from './web-bridge-client.ts';
import { openWebSession } from './web-session.ts';

declare global {
  interface Window {
    /** The AppApi the Electron preload exposes; absent in a browser. */
    valet?: AppApi;
  }
}

/**
 * The AppApi of this window: the preload bridge in Electron, or in a browser the web bridge,
 * once the page has opened its session (from the link it was opened with).
 */
export async function currentApi(): Promise<AppApi> {
  return window.valet ?? createWebBridgeClient(await openWebSession());
}
