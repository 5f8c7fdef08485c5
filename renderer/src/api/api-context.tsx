import { createContext, useContext, type ReactNode } from 'react';
import type { AppApi } from '../../../preload/contract.ts';

// A context rather than imports of currentApi(), so tests hand the views an in-memory AppApi.
const ApiContext = createContext<AppApi | null>(null);

/** Makes `api` available to every view below it. */
export function ApiProvider({ api, children }: { api: AppApi; children: ReactNode }) {
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

/** The AppApi of this window (from the nearest ApiProvider). */
export function useApi(): AppApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi() needs an <ApiProvider> above it');
  return api;
}
