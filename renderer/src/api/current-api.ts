import type { AppApi } from '../../../preload/contract.ts';
import { createWebBridgeClient } from './web-bridge-client.ts';

declare global {
  interface Window {
    /** The AppApi the Electron preload exposes; absent in a browser. */
    valet?: AppApi;
  }
}

/** The AppApi of this window: the preload bridge in Electron, the web bridge in a browser. */
export function currentApi(): AppApi {
  return window.valet ?? createWebBridgeClient();
}
