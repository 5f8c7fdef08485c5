import type { Response } from 'express';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import {
  InvalidRequestError,
  InvalidTargetError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type {
  AuthorizationParams,
  OAuthServerProvider,
} from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type {
  OAuthClientInformationFull,
  OAuthTokenRevocationRequest,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { PendingRequests } from './pending-requests.ts';
import { BASE_SCOPE, knownScopes } from './scopes.ts';
import type { KnownKeyOfToken, ValetTokens } from './valet-tokens.ts';

/** How the provider is made. */
export interface ValetProviderOptions {
  clientsStore: OAuthRegisteredClientsStore;
  pending: PendingRequests;
  tokens: ValetTokens;
  /** Where the consent page is: `<public>/consent`. */
  consentUrl: string;
  /** The only resource tokens are issued for: `<public>/mcp`. */
  resource: string;
}

// An S256 challenge is the base64url of a SHA-256: 43 characters.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Valet mode's OAuthServerProvider for the SDK's mcpAuthRouter. /authorize parks the request and
 * sends the browser to our consent page, where the user signs in and picks the tools; the code
 * that page mints is exchanged here. PKCE is checked by the SDK's token handler against
 * `challengeForAuthorizationCode` (skipLocalPkceValidation stays off), the redirect URI and the
 * resource here. Tokens are ours and opaque: no Entra token ever reaches a client.
 */
export class ValetProvider implements OAuthServerProvider {
  readonly #options: ValetProviderOptions;

  constructor(options: ValetProviderOptions) {
    this.#options = options;
  }

  get clientsStore(): OAuthRegisteredClientsStore {
    return this.#options.clientsStore;
  }

  async authorize(
    client: OAuthClientInformationFull,
    params: AuthorizationParams,
    res: Response,
  ): Promise<void> {
    this.#checkResource(params.resource);
    if (!S256_CHALLENGE.test(params.codeChallenge))
      throw new InvalidRequestError(
        'code_challenge is not an S256 challenge (43 base64url characters)',
      );
    const scopes = knownScopes(params.scopes ?? []);
    const id = await this.#options.pending.add({
      clientId: client.client_id,
      redirectUri: params.redirectUri,
      codeChallenge: params.codeChallenge,
      state: params.state,
      scopes: scopes.length > 0 ? scopes : [BASE_SCOPE],
      resource: this.#options.resource,
    });
    res.redirect(302, `${this.#options.consentUrl}/${id}`);
  }

  challengeForAuthorizationCode(
    client: OAuthClientInformationFull,
    authorizationCode: string,
  ): Promise<string> {
    return this.#options.tokens.challengeFor(client.client_id, authorizationCode);
  }

  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    authorizationCode: string,
    _codeVerifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    this.#checkResource(resource);
    return this.#options.tokens.exchangeCode(client.client_id, authorizationCode, redirectUri);
  }

  async exchangeRefreshToken(
    client: OAuthClientInformationFull,
    refreshToken: string,
    scopes?: string[],
    resource?: URL,
  ): Promise<OAuthTokens> {
    this.#checkResource(resource);
    return this.#options.tokens.refresh(client.client_id, refreshToken, scopes);
  }

  verifyAccessToken(token: string): Promise<AuthInfo> {
    return this.#options.tokens.verify(token);
  }

  /** The key an access token names, if this instance knows it (see ValetTokens.knownKeyOf). */
  knownKeyOf(token: string): KnownKeyOfToken | undefined {
    return this.#options.tokens.knownKeyOf(token);
  }

  revokeToken(
    client: OAuthClientInformationFull,
    request: OAuthTokenRevocationRequest,
  ): Promise<void> {
    return this.#options.tokens.revoke(client.client_id, request.token, request.token_type_hint);
  }

  #checkResource(resource: URL | undefined): void {
    if (resource !== undefined && !sameResource(resource, this.#options.resource))
      throw new InvalidTargetError(`resource must be ${this.#options.resource}, the MCP endpoint`);
  }
}

/** RFC 8707: a resource has no fragment; one trailing slash does not matter. */
function sameResource(given: URL, expected: string): boolean {
  if (given.hash) return false;
  return given.href.replace(/\/$/, '') === new URL(expected).href.replace(/\/$/, '');
}
