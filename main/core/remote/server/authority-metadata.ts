import type { ResolvedAuthority } from '../../config/authority.ts';
import { diagnoseAuthority } from '../../auth/authority-probe.ts';
import type { Logger } from '../../util/logger.ts';

/** How long to wait before asking the authority again after a failed load. */
export const METADATA_RETRY_MS = 10_000;

/** What loading the metadata needs. */
export interface AuthorityMetadataOptions {
  /** The OpenID configuration from VALET_AUTHORITY_METADATA_FILE: then nothing is fetched. */
  fromFile?: string | undefined;
  fetch?: typeof fetch;
  logger: Logger;
  retryMs?: number;
  timeoutMs?: number;
}

/**
 * The authority's OpenID configuration, loaded once when the server starts and handed to every
 * MSAL client, so that no sign-in asks the authority for discovery again. While it cannot be
 * loaded, the server is not ready; it asks again every `retryMs` until it can.
 */
export class AuthorityMetadata {
  readonly #authority: ResolvedAuthority;
  readonly #options: AuthorityMetadataOptions;
  #json: string | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(authority: ResolvedAuthority, options: AuthorityMetadataOptions) {
    this.#authority = authority;
    this.#options = options;
    this.#json = options.fromFile;
  }

  /** The metadata as MSAL's `authorityMetadata` takes it, once loaded. */
  get json(): string | undefined {
    return this.#json;
  }

  /** The URL the configuration is read from. */
  get url(): string {
    return `${this.#authority.url}/v2.0/.well-known/openid-configuration`;
  }

  /**
   * Loads the metadata unless it is already there. Resolves to whether it is loaded; a failure
   * is logged with its cause and fix, and another attempt is scheduled.
   */
  async load(): Promise<boolean> {
    if (this.#json !== undefined) return true;
    const fetchFn = this.#options.fetch ?? fetch;
    try {
      const response = await fetchFn(this.url, {
        redirect: 'error',
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5000),
      });
      const text = response.ok ? await response.text() : undefined;
      if (text !== undefined && isOpenIdConfiguration(text)) {
        this.#json = text;
        return true;
      }
      await response.body?.cancel().catch(() => undefined);
    } catch {
      // The diagnosis below finds out why, in words a person can act on.
    }
    const cause = await diagnoseAuthority(this.#authority, this.#options.timeoutMs ?? 5000);
    this.#options.logger.warn(
      `The authority's OpenID configuration could not be loaded: ${cause}; the server is not ready until it is (next attempt in ${Math.round((this.#options.retryMs ?? METADATA_RETRY_MS) / 1000)} s)`,
    );
    this.#scheduleRetry();
    return false;
  }

  /** Stops asking again. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
  }

  #scheduleRetry(): void {
    if (this.#stopped || this.#retry !== undefined) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.load();
    }, this.#options.retryMs ?? METADATA_RETRY_MS).unref();
  }
}

function isOpenIdConfiguration(text: string): boolean {
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    return (
      typeof doc.issuer === 'string' &&
      typeof doc.authorization_endpoint === 'string' &&
      typeof doc.token_endpoint === 'string'
    );
  } catch {
    return false;
  }
}
