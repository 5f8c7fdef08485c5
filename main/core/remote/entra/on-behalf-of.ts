import {
  ConfidentialClientApplication,
  type AuthenticationResult,
  type NodeSystemOptions,
} from '@azure/msal-node';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { ResolvedAuthority } from '../../config/authority.ts';
import { ExpiringMemo } from '../../util/expiring-memo.ts';
import { ValetError } from '../../util/valet-error.ts';
import type { CacheKeys } from '../cache-keys.ts';
import type { MsalCredential } from '../credentials.ts';
import { oboCachePlugin, oboPartitionKey, type DamagedPartition } from '../shared-token-cache.ts';
import type { SharedStore } from '../store/shared-store.ts';
import type { OpenIdConfigurationSource } from './authority-jwks.ts';
import { explainOnBehalfOfError } from './graph-grant-error.ts';
import type { GraphToken, GraphTokenSource } from './graph-token-source.ts';

/** What on-behalf-of exchanges need: the confidential app, its authority, and the shared store. */
export interface OnBehalfOfOptions {
  clientId: string;
  authority: ResolvedAuthority;
  /** The authority's OpenID configuration, loaded once at start: no client asks for it again. */
  authorityMetadata: OpenIdConfigurationSource;
  credential: MsalCredential;
  store: SharedStore;
  cacheKeys: CacheKeys;
  /** For the grant page's URL in consent errors. */
  publicUrl: string;
  /** MSAL's logger and network client. */
  system?: NodeSystemOptions;
  onDamaged?: DamagedPartition;
  now?: () => number;
}

/**
 * Instance discovery's answer for the authority's host, given to MSAL so that it never asks
 * for it (the host is its own only alias).
 */
export function cloudDiscoveryMetadata(authority: ResolvedAuthority): string {
  return JSON.stringify({
    tenant_discovery_endpoint: `${authority.url}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [
      {
        preferred_network: authority.host,
        preferred_cache: authority.host,
        aliases: [authority.host],
      },
    ],
  });
}

/** How many recent exchanges an instance remembers, and how long before expiry it lets go of one. */
const RECENT_EXCHANGES = 1_000;
const RECENT_MARGIN_MS = 5 * 60_000;

/**
 * Entra mode's Graph tokens: the caller's verified access token is exchanged on-behalf-of for a
 * Graph token of the same user, issued to this server. The token goes to the IdP's token
 * endpoint as the assertion and nowhere else.
 *
 * The exchanges are shared through the store: each request's MSAL client has the assertion's
 * sealed partition as its cache, kept only as long as the assertion is valid, so every
 * instance asks the IdP once per assertion. An instance also remembers its last thousand
 * answers (keyed by the assertion's hash and the scopes, until five minutes before either
 * token expires), so a client's next call skips the store read, the decryption and MSAL's
 * cache rebuild; memory stays bounded however many users come.
 */
export class OnBehalfOfGraphTokens {
  readonly #options: OnBehalfOfOptions;
  readonly #cloudDiscovery: string;
  readonly #recent: ExpiringMemo<GraphToken>;

  constructor(options: OnBehalfOfOptions) {
    this.#options = options;
    this.#cloudDiscovery = cloudDiscoveryMetadata(options.authority);
    this.#recent = new ExpiringMemo(RECENT_EXCHANGES, options.now ?? Date.now);
  }

  /** The Graph tokens of one request, authorized by its verified entra AuthInfo. */
  forRequest(auth: Pick<AuthInfo, 'token' | 'expiresAt'>): GraphTokenSource {
    if (typeof auth.expiresAt !== 'number')
      throw new ValetError(
        'not_entra_token',
        'On-behalf-of needs a verified access token with an expiry; this request has none',
      );
    return new RequestTokens(
      this.#options,
      this.#cloudDiscovery,
      auth.token,
      auth.expiresAt,
      this.#memo(),
    );
  }

  #memo(): RecentExchanges {
    const recent = this.#recent;
    return {
      get: (key) => {
        const hit = recent.get(key);
        return hit && { ...hit, fromCache: true };
      },
      set: (key, token, assertionExpiresAtMs) =>
        recent.set(
          key,
          token,
          Math.min(token.expiresOn.getTime(), assertionExpiresAtMs) - RECENT_MARGIN_MS,
        ),
    };
  }
}

/** An instance's memory of recent exchanges, as one request sees it. */
interface RecentExchanges {
  get(key: string): GraphToken | undefined;
  set(key: string, token: GraphToken, assertionExpiresAtMs: number): void;
}

/** One request's exchanges: one MSAL client over the assertion's partition, gone with the request. */
class RequestTokens implements GraphTokenSource {
  readonly #options: OnBehalfOfOptions;
  readonly #cloudDiscovery: string;
  readonly #assertion: string;
  readonly #expiresAt: number;
  readonly #pending = new Map<string, Promise<GraphToken>>();
  readonly #recent: RecentExchanges;
  #client: ConfidentialClientApplication | undefined;

  constructor(
    options: OnBehalfOfOptions,
    cloudDiscovery: string,
    assertion: string,
    expiresAt: number,
    recent: RecentExchanges,
  ) {
    this.#options = options;
    this.#cloudDiscovery = cloudDiscovery;
    this.#assertion = assertion;
    this.#expiresAt = expiresAt;
    this.#recent = recent;
  }

  getToken(request: { scopes: string[]; forceRefresh?: boolean }): Promise<GraphToken> {
    const scopes = [...new Set(request.scopes)].sort();
    // The instance's memory is keyed by the assertion's hash: it never holds the assertion.
    const remembered = `${oboPartitionKey(this.#assertion)}\n${scopes.join(' ')}`;
    if (!request.forceRefresh) {
      const hit = this.#recent.get(remembered);
      if (hit) return Promise.resolve(hit);
    }
    const key = `${scopes.join(' ')}\n${request.forceRefresh ? 'force' : ''}`;
    // Calls of one request for the same scopes share one exchange.
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#exchange(scopes, request.forceRefresh ?? false, remembered).finally(() =>
        this.#pending.delete(key),
      );
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #exchange(
    scopes: string[],
    forceRefresh: boolean,
    remembered: string,
  ): Promise<GraphToken> {
    const client = this.#msal();
    let result: AuthenticationResult | null;
    try {
      // MSAL's on-behalf-of looks in its memory only, without asking the cache plugin:
      // reading the accounts loads the assertion's partition from the store first.
      await client.getTokenCache().getAllAccounts();
      result = await client.acquireTokenOnBehalfOf({
        oboAssertion: this.#assertion,
        scopes,
        skipCache: forceRefresh,
      });
    } catch (err) {
      throw explainOnBehalfOfError(err, scopes, this.#options.publicUrl);
    }
    if (!result?.accessToken)
      throw new ValetError(
        'graph_token_failed',
        `The identity provider answered the on-behalf-of exchange for ${scopes.join(', ')} without a token`,
      );
    const token: GraphToken = {
      accessToken: result.accessToken,
      expiresOn: result.expiresOn ?? new Date(this.#expiresAt * 1000),
      scopes: result.scopes,
      fromCache: result.fromCache,
    };
    this.#recent.set(remembered, token, this.#expiresAt * 1000);
    return token;
  }

  #msal(): ConfidentialClientApplication {
    const o = this.#options;
    const authorityMetadata = o.authorityMetadata.json;
    // Without it MSAL would ask the authority for it on every request.
    if (authorityMetadata === undefined)
      throw new ValetError(
        'authority_unavailable',
        "The authority's OpenID configuration is not loaded yet, so Microsoft Graph cannot be called: try again once the server is ready",
      );
    this.#client ??= new ConfidentialClientApplication({
      auth: {
        clientId: o.clientId,
        authority: o.authority.url,
        knownAuthorities: o.authority.knownAuthorities,
        authorityMetadata,
        cloudDiscoveryMetadata: this.#cloudDiscovery,
        ...o.credential,
      },
      cache: {
        cachePlugin: oboCachePlugin(
          o.store,
          o.cacheKeys,
          this.#assertion,
          this.#expiresAt,
          o.onDamaged,
          o.now,
        ),
      },
      ...(o.system && { system: o.system }),
    });
    return this.#client;
  }
}
