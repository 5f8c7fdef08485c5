import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import type { SignInStepDto } from '../../../preload/contract.ts';
import { useAppEvents } from './use-app-events.ts';

/** The latest sign-in attempt the core reported, with its latest step. */
export interface SignInProgress {
  attemptId: string;
  step: SignInStepDto;
}

/** Steps after which an attempt is over. */
const ENDINGS: ReadonlySet<SignInStepDto['kind']> = new Set(['finished', 'failed', 'cancelled']);

/** Whether an attempt is still going on at this step. */
export function isRunning(progress: SignInProgress | null): progress is SignInProgress {
  return progress !== null && !ENDINGS.has(progress.step.kind);
}

/** The sign-in progress the window knows of. */
export interface SignInProgressState {
  /** The latest attempt and its step, or null before any. */
  latest: SignInProgress | null;
  /** Whether the core has reported any step of an attempt (a newer one may have replaced it). */
  reported(attemptId: string): boolean;
}

// Kept above the views, so that a view opened mid-way (the tray started a sign-in, the person
// clicked its notification) still shows the step the sign-in is at.
const ProgressContext = createContext<SignInProgressState | undefined>(undefined);

/** Follows the core's sign-in progress for every view below it. */
export function SignInProgressProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<{ latest: SignInProgress | null; ids: Set<string> }>({
    latest: null,
    ids: new Set(),
  });
  useAppEvents((event) => {
    if (event.type !== 'sign-in-progress') return;
    setState((s) => ({
      latest: { attemptId: event.attemptId, step: event.step },
      ids: s.ids.has(event.attemptId) ? s.ids : new Set(s.ids).add(event.attemptId),
    }));
  });
  const value = useMemo(
    () => ({ latest: state.latest, reported: (id: string) => state.ids.has(id) }),
    [state],
  );
  return <ProgressContext.Provider value={value}>{children}</ProgressContext.Provider>;
}

/** The window's sign-in progress. */
export function useSignInProgress(): SignInProgressState {
  const progress = useContext(ProgressContext);
  if (!progress) throw new Error('useSignInProgress() needs a <SignInProgressProvider> above it');
  return progress;
}
