import { useCallback, useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import { errorMessage } from '../api/error-message.ts';

/** Data a view loads from the API, the error it failed with, and a way to load it again. */
export interface Loaded<T> {
  /** null until the first load succeeds. */
  data: T | null;
  setData: Dispatch<SetStateAction<T | null>>;
  error: string | null;
  reload: () => Promise<void>;
}

/**
 * Loads `fetch` when the view opens (and whenever `fetch` changes: memoize it). A failed load
 * keeps what was shown before and reports why; a later success clears the error.
 */
export function useLoaded<T>(fetch: () => Promise<T>): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setData(await fetch());
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [fetch]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, setData, error, reload };
}
