import type { AppApi, CallRequest, SignInStepDto } from '../../preload/contract.ts';

/** One kind of sign-in step. */
export type StepOf<K extends SignInStepDto['kind']> = Extract<SignInStepDto, { kind: K }>;

/**
 * Starts a sign-in through an AppApi and waits for its attempt to reach a step of `kind`
 * (its events may come before the call answers). Fails at once when the attempt ends
 * otherwise, with the step it ended on.
 */
export async function signInUntil<K extends SignInStepDto['kind']>(
  api: AppApi,
  request: CallRequest<'signIn'>,
  kind: K,
  timeoutMs = 15_000,
): Promise<{ attemptId: string; step: StepOf<K> }> {
  const seen: Array<{ attemptId: string; step: SignInStepDto }> = [];
  let wake = () => {};
  const unsubscribe = api.subscribe((event) => {
    if (event.type !== 'sign-in-progress') return;
    seen.push({ attemptId: event.attemptId, step: event.step });
    wake();
  });
  try {
    const { attemptId } = await api.signIn(request);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mine = seen.filter((s) => s.attemptId === attemptId).map((s) => s.step);
      const found = mine.find((s): s is StepOf<K> => s.kind === kind);
      if (found) return { attemptId, step: found };
      const ended = mine.find((s) => ['finished', 'failed', 'cancelled'].includes(s.kind));
      if (ended) throw new Error(`the sign-in ended (${JSON.stringify(ended)}) before ${kind}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${kind} step within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => (clearTimeout(timer), resolve());
      });
    }
  } finally {
    unsubscribe();
  }
}
