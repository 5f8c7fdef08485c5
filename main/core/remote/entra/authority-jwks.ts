import { InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import { silentLogger, type Logger } from '../../util/logger.ts';
import { describeError } from '../../util/valet-error.ts';

/** Where the authority's OpenID configuration is read from once loaded (the server loads it at start). */
export interface OpenIdConfigurationSource {
  /** The configuration's JSON text; undefined while it is not loaded. */
  readonly json: string | undefined;
}

/**
 * The authority's signing keys, from the `jwks_uri` of its OpenID configuration, fetched when
 * first needed and cached by jose: fetched again when stale (10 min) or when a token names a
 * key the cache lacks (at most every 30 s), which is how a key rollover is followed. The fetch
 * is Node's, so the CAs Node trusts (NODE_EXTRA_CA_CERTS) apply.
 */
export class AuthorityJwks {
  readonly #source: OpenIdConfigurationSource;
  readonly #fetch: typeof fetch;
  readonly #logger: Logger;
  #keys: JWTVerifyGetKey | undefined;

  constructor(
    source: OpenIdConfigurationSource,
    options: { fetch?: typeof fetch; logger?: Logger } = {},
  ) {
    this.#source = source;
    this.#fetch = options.fetch ?? fetch;
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * jose's key lookup. A token naming a key the authority does not publish is an
   * InvalidTokenError; a configuration not loaded yet, or keys that cannot be fetched, a
   * ServerError (the server's problem, not the caller's).
   */
  readonly keys: JWTVerifyGetKey = async (header, token) => {
    this.#keys ??= this.#create();
    try {
      return await this.#keys(header, token);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY')
        throw new InvalidTokenError(
          'The token is signed with a key the authority does not publish',
        );
      if (code === 'ERR_JOSE_ALG_NOT_ALLOWED' || code === 'ERR_JWS_INVALID') throw err;
      this.#logger.warn(`The authority's signing keys could not be fetched: ${describeError(err)}`);
      throw new ServerError("The authority's signing keys could not be fetched");
    }
  };

  #create(): JWTVerifyGetKey {
    const json = this.#source.json;
    if (json === undefined)
      throw new ServerError(
        "The authority's OpenID configuration is not loaded yet, so no token can be checked",
      );
    let uri: unknown;
    try {
      uri = (JSON.parse(json) as { jwks_uri?: unknown }).jwks_uri;
    } catch {
      uri = undefined;
    }
    if (typeof uri !== 'string' || !URL.canParse(uri) || new URL(uri).protocol !== 'https:')
      throw new ServerError(
        "The authority's OpenID configuration has no https jwks_uri, so no token can be checked",
      );
    const fetchFn = this.#fetch;
    return createRemoteJWKSet(new URL(uri), {
      [customFetch]: (url, options) => fetchFn(url, { ...options, redirect: 'error' }),
    });
  }
}
