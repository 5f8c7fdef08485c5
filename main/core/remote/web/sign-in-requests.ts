import type { SharedStore } from '../store/shared-store.ts';

/** How long a started sign-in may take before its callback is refused. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

/** What the callback needs of the sign-in it completes; kept in the store, never in the browser. */
export interface PendingSignIn {
  /** The PKCE verifier of the code MSAL will redeem. */
  verifier: string;
  /** The nonce the ID token must carry back (MSAL rejects a token with one it was not given). */
  nonce: string;
  /** SHA-256 of the browser's sign-in cookie: only that browser may complete this sign-in. */
  binding: string;
  /** The same-origin path to go to afterwards. */
  returnTo: string;
  /** The delegated scopes asked for, when more than the sign-in's own (a Graph grant). */
  scopes?: string[];
}

/**
 * Sign-ins in flight, at `authreq:{state}` in the shared store, so the callback may land on any
 * instance. Taking one removes it in the same step (GETDEL): a callback is good once.
 */
export class SignInRequests {
  readonly #store: SharedStore;
  readonly #ttlMs: number;

  constructor(store: SharedStore, ttlMs: number = SIGN_IN_TTL_MS) {
    this.#store = store;
    this.#ttlMs = ttlMs;
  }

  /** Records a sign-in under its state (a fresh random value, so never one in use). */
  async save(state: string, pending: PendingSignIn): Promise<void> {
    await this.#store.set(keyOf(state), JSON.stringify(pending), {
      ttlMs: this.#ttlMs,
      onlyIfAbsent: true,
    });
  }

  /** The sign-in `state` names, removed; null when unknown, expired or already taken. */
  async take(state: string): Promise<PendingSignIn | null> {
    const raw = await this.#store.getDel(keyOf(state));
    if (raw === null) return null;
    const value = JSON.parse(raw) as Partial<PendingSignIn>;
    if (
      typeof value.verifier !== 'string' ||
      typeof value.nonce !== 'string' ||
      typeof value.binding !== 'string' ||
      typeof value.returnTo !== 'string'
    )
      return null;
    if (
      value.scopes !== undefined &&
      !(Array.isArray(value.scopes) && value.scopes.every((s) => typeof s === 'string'))
    )
      return null;
    return value as PendingSignIn;
  }
}

function keyOf(state: string): string {
  return `authreq:${state}`;
}
