import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../api/error-message.ts';

/** The state of one user action: whether it runs, and the error it ended with. */
export interface ActionState {
  pending: boolean;
  error: string | null;
  /** Runs `work`; resolves true when it succeeded. Errors are kept, not thrown. */
  run: (work: () => Promise<unknown>) => Promise<boolean>;
  clearError: () => void;
}

/** Runs an async action and keeps its error next to the control that started it. */
export function useAction(): ActionState {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // An action may finish after its view is gone (the user moved on); skip the state update then.
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const run = useCallback(async (work: () => Promise<unknown>) => {
    setPending(true);
    setError(null);
    try {
      await work();
      return true;
    } catch (e) {
      if (mounted.current) setError(errorMessage(e));
      return false;
    } finally {
      if (mounted.current) setPending(false);
    }
  }, []);
  const clearError = useCallback(() => setError(null), []);
  return { pending, error, run, clearError };
}
