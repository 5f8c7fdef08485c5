import { randomUUID } from 'node:crypto';
import type { SignInStepDto } from '../../../preload/contract.ts';
import type { AuthService } from '../auth/auth-service.ts';
import type { DeviceCodePrompt } from '../auth/auth-types.ts';
import { ValetError } from '../util/valet-error.ts';

/** What an attempt is started with. */
export interface SignInAttemptRequest {
  method: 'auto' | 'browser' | 'device-code';
  scopes?: string[];
  /** Pre-fills the username (adding consent for the signed-in account). */
  loginHint?: string;
  /** true: MCP Valet opens the sign-in page in the system browser; false: the window does. */
  openBrowser: boolean;
  windowHandle?: Buffer;
}

interface Attempt {
  id: string;
  controller: AbortController;
}

/**
 * Interactive sign-ins as attempts that report their steps. `start` answers at once with
 * the attempt's ID; the broker's prompt, the browser's URL, a device code and the end
 * (finished, failed or cancelled) follow through `report`, named by that ID, whichever of
 * them the order of fallbacks comes to. One attempt runs at a time: a new one cancels the
 * one before, and nothing more is reported of a cancelled attempt.
 */
export class SignInAttempts {
  readonly #auth: AuthService;
  readonly #report: (attemptId: string, step: SignInStepDto) => void;
  #current: Attempt | undefined;

  constructor(auth: AuthService, report: (attemptId: string, step: SignInStepDto) => void) {
    this.#auth = auth;
    this.#report = report;
  }

  /** Starts a sign-in and returns its attempt ID before any step. */
  start(request: SignInAttemptRequest): string {
    if (this.#current) this.cancel(this.#current.id);
    const attempt: Attempt = { id: randomUUID(), controller: new AbortController() };
    this.#current = attempt;
    const live = () => this.#current === attempt;
    const step = (s: SignInStepDto) => {
      if (live()) this.#report(attempt.id, s);
    };
    const end = (s: SignInStepDto) => {
      if (!live()) return;
      this.#current = undefined;
      this.#report(attempt.id, s);
    };
    // Started on the next turn, so the caller holds the ID before the first step is reported.
    setImmediate(() => {
      if (!live()) return;
      this.#auth
        .signIn({
          method: request.method,
          ...(request.scopes?.length ? { scopes: request.scopes } : {}),
          ...(request.loginHint ? { loginHint: request.loginHint } : {}),
          ...(request.windowHandle ? { windowHandle: request.windowHandle } : {}),
          openBrowser: request.openBrowser,
          signal: attempt.controller.signal,
          onBroker: () => step({ kind: 'broker' }),
          onBrowserUrl: (url) => step({ kind: 'browser', url, opened: request.openBrowser }),
          onDeviceCode: (p) => step(deviceCodeStep(p)),
        })
        .then(
          (result) => end({ kind: 'finished', username: result.account.username }),
          (err: unknown) =>
            end({
              kind: 'failed',
              message: err instanceof ValetError ? err.message : 'Sign-in failed: try again',
            }),
        );
    });
    return attempt.id;
  }

  /** Cancels the attempt if it still runs; an attempt that already ended stays as it ended. */
  cancel(attemptId: string): void {
    const attempt = this.#current;
    if (attempt?.id !== attemptId) return;
    this.#current = undefined;
    attempt.controller.abort();
    this.#report(attempt.id, { kind: 'cancelled' });
  }
}

function deviceCodeStep(p: DeviceCodePrompt): SignInStepDto {
  return {
    kind: 'device-code',
    verificationUri: p.verificationUri,
    userCode: p.userCode,
    message: p.message,
    expiresAt: new Date(Date.now() + p.expiresInSeconds * 1000).toISOString(),
  };
}
