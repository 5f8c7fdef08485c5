import {
  InvalidGrantError,
  InvalidScopeError,
  InvalidTokenError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { ExpiringMemo } from '../../util/expiring-memo.ts';
import type { Logger } from '../../util/logger.ts';
import type { AdmitCheck, SharedStore } from '../store/shared-store.ts';
import { keyIdOfAccessToken, newAccessToken, newOpaqueToken, sha256Hex } from './opaque-token.ts';
import type { RemoteKey, RemoteKeys } from './remote-keys.ts';
import { knownScopes, type ValetScope } from './scopes.ts';
import {
  recordKey,
  type AccessRecord,
  type CodeRecord,
  type RefreshRecord,
  type SpentRecord,
} from './token-records.ts';

const CODE_TTL_MS = 60_000;
/** A spent code is remembered longer than it lived, so that a late replay is still caught. */
const CODE_USED_TTL_MS = 600_000;

/** How the token service is made. */
export interface ValetTokensOptions {
  store: SharedStore;
  keys: RemoteKeys;
  logger: Logger;
  tokenTtlSeconds: number;
  refreshTtlSeconds: number;
  now?: () => number;
}

/** What `verify` puts in AuthInfo.extra: who the token acts as and what it may call. */
export interface ValetTokenExtra extends Record<string, unknown> {
  keyId: string;
  /** The key's name: the client's name at consent, as audit records and pages show it. */
  keyName: string;
  oid: string;
  tid: string;
  homeAccountId: string;
  username: string;
  tools: RemoteKey['tools'];
  readOnly: boolean;
}

/**
 * The key an access token names, as this instance knows it from a token of that key it has
 * verified before: enough to count a request against the key and its user, and to read the
 * user's token cache, while the token itself is being verified. Nothing here is proof of the
 * token: `checks` are what the store must find true before it counts the request.
 */
export interface KnownKeyOfToken {
  keyId: string;
  oid: string;
  homeAccountId: string;
  checks: AdmitCheck[];
}

/**
 * How many keys an instance remembers the user of. A key's user never changes, so an entry is
 * never stale; the bound only caps memory, and a key pushed out costs one more round trip.
 */
const KNOWN_KEYS = 10_000;
const KNOWN_KEY_MS = 24 * 3600_000;

/**
 * Valet mode's codes and tokens. Every one is an opaque random string the store keeps only as
 * its SHA-256. Codes and refresh tokens are single use (GETDEL); a spent one is remembered, and
 * if it comes back the family it belonged to (its valet key) is revoked, since one of the two
 * users of it is a thief. Access tokens are looked up, with their key, on every request, so a
 * revocation bites at once.
 */
export class ValetTokens {
  readonly #store: SharedStore;
  readonly #keys: RemoteKeys;
  readonly #logger: Logger;
  readonly #tokenTtlMs: number;
  readonly #refreshTtlMs: number;
  readonly #now: () => number;
  readonly #known: ExpiringMemo<{ oid: string; homeAccountId: string }>;

  constructor(options: ValetTokensOptions) {
    this.#store = options.store;
    this.#keys = options.keys;
    this.#logger = options.logger;
    this.#tokenTtlMs = options.tokenTtlSeconds * 1000;
    this.#refreshTtlMs = options.refreshTtlSeconds * 1000;
    this.#now = options.now ?? Date.now;
    this.#known = new ExpiringMemo(KNOWN_KEYS, this.#now);
  }

  /**
   * The key `token` names, when this instance has verified a token of that key before;
   * undefined otherwise (not an access token, or a key not seen here). Reads nothing.
   */
  knownKeyOf(token: string): KnownKeyOfToken | undefined {
    const keyId = keyIdOfAccessToken(token);
    const known = keyId === undefined ? undefined : this.#known.get(keyId);
    if (keyId === undefined || known === undefined) return undefined;
    const checks = this.#keys.liveTokenChecks(keyId, recordKey.access(sha256Hex(token)));
    return { keyId, ...known, checks };
  }

  /** A new authorization code for a consented request. */
  async mintCode(record: CodeRecord): Promise<string> {
    const code = newOpaqueToken('code');
    await this.#store.set(recordKey.code(sha256Hex(code)), JSON.stringify(record), {
      ttlMs: CODE_TTL_MS,
    });
    return code;
  }

  /** The PKCE challenge of a code, read without spending it; a replayed code revokes its family. */
  async challengeFor(clientId: string, code: string): Promise<string> {
    const hash = sha256Hex(code);
    const text = await this.#store.get(recordKey.code(hash));
    if (text === null) return this.#replayedCode(hash);
    const record = JSON.parse(text) as CodeRecord;
    if (record.clientId !== clientId)
      throw new InvalidGrantError('This authorization code was issued to another client');
    return record.codeChallenge;
  }

  /** Spends a code whose PKCE verifier the SDK has checked, for the key's first tokens. */
  async exchangeCode(
    clientId: string,
    code: string,
    redirectUri: string | undefined,
  ): Promise<OAuthTokens> {
    const hash = sha256Hex(code);
    const text = await this.#store.getDel(recordKey.code(hash));
    if (text === null) return this.#replayedCode(hash);
    const record = JSON.parse(text) as CodeRecord;
    const spent: SpentRecord = { keyId: record.keyId, clientId: record.clientId };
    await this.#store.set(recordKey.codeUsed(hash), JSON.stringify(spent), {
      ttlMs: CODE_USED_TTL_MS,
    });
    if (record.clientId !== clientId)
      throw new InvalidGrantError('This authorization code was issued to another client');
    if (redirectUri !== undefined && redirectUri !== record.redirectUri)
      throw new InvalidGrantError(
        'redirect_uri differs from the one the authorization request used; send the same URI',
      );
    const key = await this.#liveKey(record.keyId);
    return this.#mint(key, record.clientId, record.scopes, record.resource);
  }

  /**
   * Rotates a refresh token: the presented one is spent and a new pair is issued. A refresh
   * token that was already spent, or that another client presents, revokes its family.
   */
  async refresh(
    clientId: string,
    token: string,
    scopes: string[] | undefined,
  ): Promise<OAuthTokens> {
    const hash = sha256Hex(token);
    const text = await this.#store.getDel(recordKey.refresh(hash));
    if (text === null) {
      const spent = await this.#store.get(recordKey.refreshUsed(hash));
      if (spent !== null) {
        await this.#revokeFamily(
          JSON.parse(spent) as SpentRecord,
          'a refresh token was used twice',
        );
        throw new InvalidGrantError(
          'This refresh token was already used, so its whole token family has been revoked; authorize again',
        );
      }
      throw new InvalidGrantError(
        'The refresh token is unknown, expired or revoked; authorize again',
      );
    }
    const record = JSON.parse(text) as RefreshRecord;
    const spent: SpentRecord = { keyId: record.keyId, clientId: record.clientId };
    await this.#store.set(recordKey.refreshUsed(hash), JSON.stringify(spent), {
      ttlMs: this.#refreshTtlMs,
    });
    await this.#keys.removeToken(record.keyId, recordKey.refresh(hash));
    if (record.clientId !== clientId) {
      await this.#revokeFamily(spent, 'another client presented its refresh token');
      throw new InvalidGrantError('This refresh token was issued to another client');
    }
    let granted = record.scopes;
    if (scopes !== undefined) {
      const asked = knownScopes(scopes);
      if (asked.length !== scopes.length || asked.some((s) => !record.scopes.includes(s)))
        throw new InvalidScopeError(
          `A refresh may only narrow the scopes granted (${record.scopes.join(' ')}); authorize again for more`,
        );
      granted = asked;
    }
    const key = await this.#liveKey(record.keyId);
    return this.#mint(key, record.clientId, granted, record.resource, record.scopes);
  }

  /** The AuthInfo of a live access token whose key is live; InvalidTokenError otherwise. */
  async verify(token: string): Promise<AuthInfo> {
    // A token names its key: the record and the key are read at once, in one round trip.
    const named = keyIdOfAccessToken(token);
    const [text, namedKey] = await Promise.all([
      this.#store.get(recordKey.access(sha256Hex(token))),
      named === undefined ? undefined : this.#keys.get(named),
    ]);
    if (text === null)
      throw new InvalidTokenError('The access token is unknown, expired or revoked');
    const record = JSON.parse(text) as AccessRecord;
    if (record.expiresAt * 1000 <= this.#now())
      throw new InvalidTokenError('The access token has expired');
    if (named !== undefined && named !== record.keyId)
      throw new InvalidTokenError('The access token is unknown, expired or revoked');
    const key = named === undefined ? await this.#keys.get(record.keyId) : namedKey;
    if (!key || key.revokedAt)
      throw new InvalidTokenError('The valet key of this token was revoked');
    await this.#keys.touch(key);
    this.#known.set(
      key.id,
      { oid: key.oid, homeAccountId: key.homeAccountId },
      this.#now() + KNOWN_KEY_MS,
    );
    const extra: ValetTokenExtra = {
      keyId: key.id,
      keyName: key.name,
      oid: key.oid,
      tid: key.tid,
      homeAccountId: key.homeAccountId,
      username: key.username,
      tools: key.tools,
      readOnly: key.readOnly,
    };
    return {
      token,
      clientId: record.clientId,
      scopes: record.scopes,
      expiresAt: record.expiresAt,
      resource: new URL(record.resource),
      extra,
    };
  }

  /**
   * RFC 7009: a refresh token revokes its whole family (the key); an access token only itself.
   * A token that is unknown, or another client's, is left alone without saying so.
   */
  async revoke(clientId: string, token: string, hint: string | undefined): Promise<void> {
    const hash = sha256Hex(token);
    const order = hint === 'refresh_token' ? ['refresh', 'access'] : ['access', 'refresh'];
    for (const kind of order) {
      const storeKey = kind === 'access' ? recordKey.access(hash) : recordKey.refresh(hash);
      const text = await this.#store.get(storeKey);
      if (text === null) continue;
      const record = JSON.parse(text) as AccessRecord | RefreshRecord;
      if (record.clientId !== clientId) return;
      if (kind === 'refresh') await this.#keys.revoke(record.keyId);
      else {
        await this.#store.del(storeKey);
        await this.#keys.removeToken(record.keyId, storeKey);
      }
      return;
    }
  }

  async #replayedCode(hash: string): Promise<never> {
    const spent = await this.#store.get(recordKey.codeUsed(hash));
    if (spent !== null) {
      await this.#revokeFamily(
        JSON.parse(spent) as SpentRecord,
        'an authorization code was used twice',
      );
      throw new InvalidGrantError(
        'This authorization code was already used, so the tokens issued for it have been revoked; authorize again',
      );
    }
    throw new InvalidGrantError('The authorization code is unknown or expired; authorize again');
  }

  async #revokeFamily(spent: SpentRecord, why: string): Promise<void> {
    const key = await this.#keys.get(spent.keyId);
    if (!key || key.revokedAt) return;
    await this.#keys.revoke(spent.keyId);
    this.#logger.warn(`Valet key ${spent.keyId} of client ${spent.clientId} revoked: ${why}.`);
  }

  async #liveKey(keyId: string): Promise<RemoteKey> {
    const key = await this.#keys.get(keyId);
    if (!key || key.revokedAt)
      throw new InvalidGrantError('The valet key of this grant was revoked; authorize again');
    return key;
  }

  async #mint(
    key: RemoteKey,
    clientId: string,
    scopes: ValetScope[],
    resource: string,
    refreshScopes: ValetScope[] = scopes,
  ): Promise<OAuthTokens> {
    const now = this.#now();
    const accessToken = newAccessToken(key.id);
    const refreshToken = newOpaqueToken('refreshToken');
    const expiresAtMs = now + this.#tokenTtlMs;
    const access: AccessRecord = {
      keyId: key.id,
      clientId,
      scopes,
      resource,
      expiresAt: Math.floor(expiresAtMs / 1000),
    };
    const refresh: RefreshRecord = { keyId: key.id, clientId, scopes: refreshScopes, resource };
    const atKey = recordKey.access(sha256Hex(accessToken));
    const rtKey = recordKey.refresh(sha256Hex(refreshToken));
    await this.#store.set(atKey, JSON.stringify(access), { ttlMs: this.#tokenTtlMs });
    await this.#store.set(rtKey, JSON.stringify(refresh), { ttlMs: this.#refreshTtlMs });
    await this.#keys.addToken(key.id, atKey, expiresAtMs);
    await this.#keys.addToken(key.id, rtKey, now + this.#refreshTtlMs);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: Math.floor(this.#tokenTtlMs / 1000),
      refresh_token: refreshToken,
      scope: scopes.join(' '),
    };
  }
}
