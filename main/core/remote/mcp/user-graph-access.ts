import type { AccountInfo, AuthenticationResult } from '@azure/msal-node';
import { tokenFreshness } from '../../auth/cache-inspect.ts';
import { ValetError } from '../../util/valet-error.ts';
import {
  explainOnBehalfOfError,
  GraphGrantRequiredError,
  grantUrl,
} from '../entra/graph-grant-error.ts';
import type { GraphToken } from '../entra/graph-token-source.ts';
import { userPartitionKey } from '../shared-token-cache.ts';
import { createWebMsal, type WebMsalConfig } from '../web/web-msal.ts';
import { holdsUsableToken } from './cached-token.ts';
import { partitionVersion, type PartitionMemo } from './partition-memo.ts';
import type { RefreshLocks } from './refresh-lock.ts';
import type { RemoteGraphAccess } from './remote-account.ts';

/**
 * How many times a call waits for another instance's refresh before it refreshes without the
 * lock: a lock that keeps changing hands without a usable token coming of it must not hold the
 * call up for good.
 */
const MAX_WAITS = 3;
/**
 * How old this request's read of the partition may be for the instance's memory to answer
 * from it: the moments of one call, never the minutes of an approval wait, after which the
 * partition is read again and a sign-out meanwhile is seen.
 */
const SNAPSHOT_MS = 1000;

/**
 * Valet mode's Graph access for one request: the signed-in user's own token cache, sealed in
 * the store since their web sign-in, read by a confidential client made for this request (the
 * configured credential, the authority's metadata preloaded). Tokens come silently, for
 * exactly the tool's scopes; when the user must consent to a scope or sign in again, the error
 * carries the `<public>/auth/grant` link that does it. A token that must be refreshed is
 * refreshed by one instance at a time (`locks`): the others wait, read the cache again and use
 * the token it wrote, so the authority sees one refresh of a user where several calls need it.
 */
export function userGraphAccess(
  config: WebMsalConfig,
  publicUrl: string,
  homeAccountId: string,
  locks: RefreshLocks,
  memo: PartitionMemo,
): RemoteGraphAccess {
  const partition = userPartitionKey(homeAccountId);
  // The version of the partition MSAL last read or wrote for this request: what its answers
  // came from.
  let msalSaw: string | undefined;
  const msal = createWebMsal(config, homeAccountId, (key, sealed) => {
    if (key === partition) msalSaw = sealed === null ? undefined : partitionVersion(sealed);
  });
  // This request's own read of the partition, made once (again after a wait): its version says
  // whether the instance's memory may answer.
  let snapshot: { at: number; version: Promise<string | undefined> } | undefined;
  const current = () => {
    if (!snapshot || memo.now() - snapshot.at > SNAPSHOT_MS)
      snapshot = {
        at: memo.now(),
        version: config.store
          .get(partition)
          .then((sealed) => (sealed === null ? undefined : partitionVersion(sealed))),
      };
    return snapshot.version;
  };
  // Each read loads the user's partition from the store afresh.
  const readAccount = () => msal.getTokenCache().getAccountByHomeId(homeAccountId);
  let account: Promise<AccountInfo | null> | undefined;
  const signedIn = () => (account ??= readAccount());
  const needSignIn = (scopes: string[]) =>
    new GraphGrantRequiredError('interaction_required', scopes, grantUrl(publicUrl, scopes));

  const silently = async (scopes: string[], forceRefresh: boolean) => {
    let force = forceRefresh;
    for (let waits = 0; ; waits++) {
      const user = await (waits === 0 ? signedIn() : readAccount());
      // The user's cache is gone (expired after months unused, or dropped as damaged).
      if (!user) throw needSignIn(scopes);
      const silent = () =>
        msal.acquireTokenSilent({
          account: user,
          scopes,
          ...(force ? { forceRefresh: true } : {}),
        });
      const cached = { homeAccountId, clientId: config.clientId, scopes };
      if (!force && holdsUsableToken(msal.getTokenCache().serialize(), cached)) return silent();
      if (waits >= MAX_WAITS) return silent();
      const lock = await locks.take(partition);
      if (lock) {
        try {
          // MSAL reads the partition again first: a refresh that just ended elsewhere is used.
          return await silent();
        } finally {
          await lock.release();
        }
      }
      await locks.waitFree(partition);
      // The token the other instance just got will do, even where a fresh one was asked for.
      force = false;
    }
  };

  return {
    tokens: {
      getToken: async ({ scopes, forceRefresh }): Promise<GraphToken> => {
        if (config.authorityMetadata() === undefined)
          throw new ValetError(
            'authority_unavailable',
            "The authority's OpenID configuration is not loaded yet, so Microsoft Graph cannot be called: try again once the server is ready",
          );
        if (forceRefresh !== true) {
          const version = await current();
          // The user's cache is gone (deleted, dropped as damaged, or expired after months unused).
          if (version === undefined) throw needSignIn(scopes);
          const known = memo.token(homeAccountId, version, scopes);
          if (known) return known;
        }
        let result: AuthenticationResult;
        try {
          result = await silently(scopes, forceRefresh === true);
        } catch (err) {
          // Our own errors (sign in again, the store away) pass as they are.
          throw explainOnBehalfOfError(err, scopes, publicUrl);
        }
        if (!result.accessToken) throw needSignIn(scopes);
        const token: GraphToken = {
          accessToken: result.accessToken,
          expiresOn: result.expiresOn ?? new Date(Date.now() + 60_000),
          scopes: result.scopes,
          fromCache: result.fromCache,
        };
        if (msalSaw !== undefined) memo.rememberToken(homeAccountId, msalSaw, scopes, token);
        return token;
      },
    },
    roles: async () => {
      const version = await current();
      if (version === undefined) return [];
      const known = memo.roles(homeAccountId, version);
      if (known) return known;
      const claimed = (await signedIn())?.idTokenClaims?.roles;
      const roles = Array.isArray(claimed)
        ? claimed.filter((r): r is string => typeof r === 'string')
        : [];
      if (msalSaw !== undefined) memo.rememberRoles(homeAccountId, msalSaw, roles);
      return roles;
    },
    granted: async () => {
      await signedIn();
      return tokenFreshness(msal.getTokenCache().serialize(), homeAccountId);
    },
    // Whoever reads the partition's version later gets this same read, its failure included.
    warm: () => void current().catch(() => undefined),
  };
}
