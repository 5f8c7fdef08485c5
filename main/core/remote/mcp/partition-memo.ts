import { createHash } from 'node:crypto';
import { ExpiringMemo } from '../../util/expiring-memo.ts';
import type { GraphToken } from '../entra/graph-token-source.ts';

/** How many answers an instance remembers, over all users. */
const CAPACITY = 2_000;
/** A Graph token is let go of five minutes before it expires, when MSAL would refresh it. */
const TOKEN_MARGIN_MS = 5 * 60_000;
/** Roles are let go of after an hour: a partition unchanged for that long is read afresh. */
const ROLES_MS = 3_600_000;

/**
 * The version of a partition: the hash of its sealed value, which changes with every write
 * (each seal has a new nonce), so that equal versions mean the very same content.
 */
export function partitionVersion(sealed: string): string {
  return createHash('sha256').update(sealed).digest('base64url');
}

/**
 * What this instance took out of users' token cache partitions (Graph tokens, app roles),
 * each under the exact sealed value of the partition it came from. A request reads the
 * partition from the store as always, and when the store still holds that very value, the
 * answer is taken from here, without decrypting it or rebuilding MSAL's cache. A partition
 * that changed anywhere (a refresh, a new consent) has another value and is read afresh; one
 * that is gone (sign-out) has none, and nothing here answers for it. It keeps the values'
 * hashes (`partitionVersion`), never the values, and is bounded however many users come.
 */
export class PartitionMemo {
  readonly #tokens: ExpiringMemo<GraphToken>;
  readonly #roles: ExpiringMemo<string[]>;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#tokens = new ExpiringMemo(CAPACITY, now);
    this.#roles = new ExpiringMemo(CAPACITY, now);
  }

  /** The clock the memory keeps time by. */
  now(): number {
    return this.#now();
  }

  /** The Graph token for `scopes` taken from the partition at `version`. */
  token(homeAccountId: string, version: string, scopes: readonly string[]): GraphToken | undefined {
    const hit = this.#tokens.get(tokenKey(homeAccountId, version, scopes));
    return hit && { ...hit, fromCache: true };
  }

  /** Remembers the token MSAL gave for `scopes` out of the partition at `version`. */
  rememberToken(
    homeAccountId: string,
    version: string,
    scopes: readonly string[],
    token: GraphToken,
  ): void {
    const until = token.expiresOn.getTime() - TOKEN_MARGIN_MS;
    this.#tokens.set(tokenKey(homeAccountId, version, scopes), token, until);
  }

  /** The app roles of the user's ID token in the partition at `version`. */
  roles(homeAccountId: string, version: string): string[] | undefined {
    const hit = this.#roles.get(rolesKey(homeAccountId, version));
    return hit && [...hit];
  }

  /** Remembers the roles read out of the partition at `version`. */
  rememberRoles(homeAccountId: string, version: string, roles: readonly string[]): void {
    this.#roles.set(rolesKey(homeAccountId, version), [...roles], this.#now() + ROLES_MS);
  }
}

function tokenKey(homeAccountId: string, version: string, scopes: readonly string[]): string {
  return `${homeAccountId}\n${version}\n${[...new Set(scopes)].sort().join(' ')}`;
}

function rolesKey(homeAccountId: string, version: string): string {
  return `${homeAccountId}\n${version}`;
}
