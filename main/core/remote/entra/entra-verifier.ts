import { InvalidTokenError, OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { createHash } from 'node:crypto';
import { jwtVerify, type JWTPayload } from 'jose';
import { ExpiringMemo } from '../../util/expiring-memo.ts';
import type { Logger } from '../../util/logger.ts';
import type { RemoteConfig } from '../remote-config.ts';
import { AuthorityJwks, type OpenIdConfigurationSource } from './authority-jwks.ts';
import { checkEntraClaims, type EntraTokenRules } from './token-claims.ts';

/** How far a token's `exp` and `nbf` may be off the server's clock (Entra's own skew is minutes). */
export const CLOCK_TOLERANCE_SECONDS = 60;

/** What the verifier checks against: the entra rules and the resource it protects. */
export interface EntraVerifierSettings extends EntraTokenRules {
  /** `<public>/mcp` (or `<public>/entra/mcp` next to valet mode): `AuthInfo.resource` of an accepted token. */
  resource: string;
}

/** What the verifier is given. */
export interface EntraVerifierDeps {
  /** The authority's OpenID configuration, whose `jwks_uri` names the signing keys. */
  metadata: OpenIdConfigurationSource;
  fetch?: typeof fetch;
  logger?: Logger;
  now?: () => Date;
  /** How many accepted tokens to remember (default 1,000); 0 checks every token in full. */
  remembered?: number;
}

/** The entra rules of a remote configuration, for the endpoint at `resource`. */
export function entraVerifierSettings(
  config: Pick<
    RemoteConfig,
    'tenantId' | 'authority' | 'apiAudiences' | 'apiScope' | 'entraClients' | 'acceptV1Tokens'
  >,
  resource: string,
): EntraVerifierSettings {
  return {
    tenantId: config.tenantId,
    authority: config.authority,
    apiAudiences: config.apiAudiences,
    apiScope: config.apiScope,
    entraClients: config.entraClients,
    acceptV1Tokens: config.acceptV1Tokens,
    resource,
  };
}

/**
 * How many verified tokens an instance remembers, and for how long at most: a client sends the
 * same token on every call for its hour, and the memory spares each call the RSA check. The
 * bound also caps how long a token signed with a key the authority has since withdrawn is still
 * taken.
 */
const REMEMBERED_TOKENS = 1_000;
const REMEMBERED_MS = 5 * 60_000;

const FIXED_REFUSALS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'The token has expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED:
    "The token's signature does not verify with the authority's keys",
  ERR_JOSE_ALG_NOT_ALLOWED: 'The token is not signed with RS256',
  ERR_JWS_INVALID: 'The token is not a signed JWT',
  ERR_JWT_INVALID: 'The token is not a signed JWT',
};

/**
 * Entra mode's token check, a pure resource server: the token must be an Entra v2 access token
 * signed with one of the authority's keys (RS256), from this tenant, for this API, to an allowed
 * client, with the scope `Valet.Use`. Only then does the AuthInfo name the protected resource, so
 * that the bearer middleware's resource check passes for this token and no other.
 */
export class EntraTokenVerifier implements OAuthTokenVerifier {
  readonly #settings: EntraVerifierSettings;
  readonly #jwks: AuthorityJwks;
  readonly #now: () => Date;
  readonly #verified: ExpiringMemo<Omit<AuthInfo, 'token'>> | undefined;

  constructor(settings: EntraVerifierSettings, deps: EntraVerifierDeps) {
    this.#settings = settings;
    this.#jwks = new AuthorityJwks(deps.metadata, {
      ...(deps.fetch && { fetch: deps.fetch }),
      ...(deps.logger && { logger: deps.logger }),
    });
    this.#now = deps.now ?? (() => new Date());
    const remembered = deps.remembered ?? REMEMBERED_TOKENS;
    this.#verified =
      remembered > 0 ? new ExpiringMemo(remembered, () => this.#now().getTime()) : undefined;
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    if (!this.#verified) return this.#verify(token);
    // Keyed by the whole token's hash: a token differing in any byte, its signature included,
    // is checked afresh. Only accepted tokens are remembered.
    const hash = createHash('sha256').update(token).digest('base64url');
    const known = this.#verified.get(hash);
    if (known) return { ...known, token };
    const accepted = await this.#verify(token);
    const until = Math.min(
      ((accepted.expiresAt as number) + CLOCK_TOLERANCE_SECONDS) * 1000,
      this.#now().getTime() + REMEMBERED_MS,
    );
    const { token: _token, ...remembered } = accepted;
    this.#verified.set(hash, remembered, until);
    return accepted;
  }

  async #verify(token: string): Promise<AuthInfo> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#jwks.keys, {
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: this.#now(),
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw refusal(err);
    }
    const accepted = checkEntraClaims(payload, this.#settings);
    return {
      token,
      clientId: accepted.extra.azp,
      scopes: accepted.scopes,
      expiresAt: payload.exp as number,
      resource: new URL(this.#settings.resource),
      extra: accepted.extra,
    };
  }
}

/** A jose failure as the 401 a client gets, in a fixed sentence that quotes nothing of the token. */
function refusal(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  const code = (err as { code?: unknown }).code;
  const fixed = typeof code === 'string' ? FIXED_REFUSALS[code] : undefined;
  if (fixed) return new InvalidTokenError(fixed);
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const claim = (err as { claim?: unknown }).claim;
    if (claim === 'nbf') return new InvalidTokenError('The token is not valid yet');
    if (claim === 'exp') return new InvalidTokenError('The token has no expiry');
    return new InvalidTokenError('The token has a claim that is not valid');
  }
  return new InvalidTokenError('The token could not be verified');
}
