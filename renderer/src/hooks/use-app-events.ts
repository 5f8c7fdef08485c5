import { useEffect, useRef } from 'react';
import type { AppEventDto } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';

/** Calls `listener` for every event pushed to the window while the component is mounted. */
export function useAppEvents(listener: (event: AppEventDto) => void): void {
  const api = useApi();
  // The latest listener, so callers may pass a fresh closure each render without resubscribing.
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => api.subscribe((event) => latest.current(event)), [api]);
}
