import { WatchedStamp, type WatchedStampOptions } from '../util/watched-stamp.ts';
import type { AccessToken } from './auth-types.ts';

/** MSAL renews a token this long before it expires; the memo never serves one closer to expiry. */
const RENEWAL_MARGIN_MS = 5 * 60_000;

/**
 * Remembers the tokens handed out, so a tool call's token costs a look at a file's stamp in
 * memory rather than an MSAL cache pass. An entry is served only while the shared token cache
 * file is unchanged (another process signing out or refreshing changes it; the change shows as
 * soon as the file watch reports it, within STAMP_MAX_AGE_MS at worst) and the token has more
 * than five minutes left; otherwise the caller goes to MSAL, as without the memo.
 */
export class TokenMemo {
  readonly #cacheFile: WatchedStamp | undefined;
  readonly #entries = new Map<string, { token: AccessToken; stamp: string }>();

  /** `cacheFile` is the persisted cache's file (or marker); undefined for a memory-only cache. */
  constructor(cacheFile: string | undefined, options: WatchedStampOptions = {}) {
    this.#cacheFile = cacheFile === undefined ? undefined : new WatchedStamp(cacheFile, options);
  }

  /** The cache file's current stamp; take it before acquiring a token that will be remembered. */
  stamp(): string {
    return this.#cacheFile ? this.#cacheFile.current() : 'memory';
  }

  get(key: string): AccessToken | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (
      entry.token.expiresOn.getTime() - Date.now() <= RENEWAL_MARGIN_MS ||
      entry.stamp !== this.stamp()
    ) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.token;
  }

  set(key: string, token: AccessToken, stamp: string): void {
    this.#entries.set(key, { token, stamp });
  }

  clear(): void {
    this.#entries.clear();
    // Whoever clears (a sign-out) has just changed the cache file: look at it afresh.
    this.#cacheFile?.invalidate();
  }

  /** Stops watching the cache file. */
  close(): void {
    this.#cacheFile?.close();
  }
}
