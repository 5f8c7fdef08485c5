import { useCallback, useEffect, useState } from 'react';
import type { StatusDto } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { errorMessage } from '../api/error-message.ts';
import { useAppEvents } from './use-app-events.ts';

/** The app's status, kept current by the core's `status-changed` events. */
export interface StatusState {
  status: StatusDto | null;
  error: string | null;
  /** Asks the core again (after an action that may have changed it). */
  refresh: () => Promise<void>;
  /** Replaces the status (after first-run settings were saved). */
  setStatus: (status: StatusDto) => void;
}

/** Loads the status once and follows the events that change it. */
export function useStatus(): StatusState {
  const api = useApi();
  const [status, setStatus] = useState<StatusDto | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = useCallback(async () => {
    try {
      setStatus(await api.getStatus({}));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [api]);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  useAppEvents((event) => {
    if (event.type === 'status-changed') {
      setStatus(event.status);
      setError(null);
    }
  });
  return { status, error, refresh, setStatus };
}
