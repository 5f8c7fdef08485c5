import { randomBytes } from 'node:crypto';
import { PublicClientApplication } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAuthority } from '../../../../main/core/config/authority.ts';
import { cacheKeyOf, type CacheKeys } from '../../../../main/core/remote/cache-keys.ts';
import { GraphGrantRequiredError } from '../../../../main/core/remote/entra/graph-grant-error.ts';
import { PartitionMemo } from '../../../../main/core/remote/mcp/partition-memo.ts';
import { RefreshLocks } from '../../../../main/core/remote/mcp/refresh-lock.ts';
import { userGraphAccess } from '../../../../main/core/remote/mcp/user-graph-access.ts';
import {
  userCachePlugin,
  userPartitionKey,
} from '../../../../main/core/remote/shared-token-cache.ts';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';
import type { WebMsalConfig } from '../../../../main/core/remote/web/web-msal.ts';
import { silentLogger } from '../../../../main/core/util/logger.ts';
import { DEMO_USERS, type IdpUser, type RunningIdp } from '../../../../main/demo/idp/index.ts';
import { openIdConfiguration } from '../../../support/entra-api.ts';
import { msalAuthFor, startTestIdp } from '../../../support/idp.ts';

const [adele] = DEMO_USERS as [IdpUser];
const PUBLIC_URL = 'https://valet.contoso.test';
const SCOPES = ['User.Read'];
const keys: CacheKeys = { current: cacheKeyOf(randomBytes(32)) };
let idp: RunningIdp;
let metadata: string;

beforeAll(async () => {
  idp = await startTestIdp();
  metadata = await openIdConfiguration(idp);
});
afterAll(() => idp?.close());

/**
 * A store whose reads of users' partitions are counted, and a sign-in that puts the user's
 * token cache in it, as the web sign-in does.
 */
async function signedInStore() {
  const store = new MemoryStore();
  let partitionReads = 0;
  const counted = new Proxy(store, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (name !== 'get' || typeof value !== 'function') return value;
      return (key: string) => {
        if (key.startsWith('msal:u:')) partitionReads++;
        return (value as (k: string) => Promise<string | null>).call(target, key);
      };
    },
  });
  const signIn = async () => {
    const client = new PublicClientApplication({
      auth: msalAuthFor(idp),
      cache: { cachePlugin: userCachePlugin(store, keys, undefined) },
    });
    const result = await client.acquireTokenByDeviceCode({
      scopes: SCOPES,
      deviceCodeCallback: (r) => void idp.approveDeviceCode(r.userCode, adele.username),
    });
    return { homeAccountId: result!.account!.homeAccountId, accessToken: result!.accessToken };
  };
  const config: WebMsalConfig = {
    clientId: msalAuthFor(idp).clientId,
    authority: resolveAuthority(idp.authority),
    credential: { clientSecret: 'not-needed-for-cached-tokens' },
    authorityMetadata: () => metadata,
    store: counted,
    cacheKeys: keys,
    logger: silentLogger,
  };
  /** The Graph access of a new request of the user, as one instance (`memo`) builds it. */
  const requests = (homeAccountId: string, memo = new PartitionMemo()) => {
    const locks = new RefreshLocks({ store });
    return () => userGraphAccess(config, PUBLIC_URL, homeAccountId, locks, memo);
  };
  return { store, signIn, requests, reads: () => partitionReads };
}

describe('valet mode’s Graph tokens, from the user’s token cache in the store', () => {
  it('reads the partition once per call and answers from memory while it holds the same value', async () => {
    const { signIn, requests, reads } = await signedInStore();
    const { homeAccountId, accessToken } = await signIn();
    const request = requests(homeAccountId);

    const first = request();
    expect((await first.tokens.getToken({ scopes: SCOPES })).accessToken).toBe(accessToken);
    // Adele's ID token carries her app role.
    expect(await first.roles()).toEqual(['Valet.Mail.Send']);
    const idpBefore = idp.tokenRequests.length;
    const before = reads();
    for (let i = 0; i < 5; i++) {
      const call = request();
      call.warm?.();
      expect(await call.roles()).toEqual(['Valet.Mail.Send']);
      const token = await call.tokens.getToken({ scopes: SCOPES });
      expect(token).toMatchObject({ accessToken, fromCache: true });
    }
    // One read of the partition per call (its warm read), shared by roles and the token.
    expect(reads() - before).toBe(5);
    expect(idp.tokenRequests.length).toBe(idpBefore);
  });

  it('asks the user to sign in once their partition is gone from the store, though a call took its token from memory a moment before', async () => {
    const { store, signIn, requests } = await signedInStore();
    const { homeAccountId } = await signIn();
    const request = requests(homeAccountId);
    await request().tokens.getToken({ scopes: SCOPES });
    expect((await request().tokens.getToken({ scopes: SCOPES })).fromCache).toBe(true);

    await store.del(userPartitionKey(homeAccountId));
    const refused = await request()
      .tokens.getToken({ scopes: SCOPES })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(GraphGrantRequiredError);
    expect(await request().roles()).toEqual([]);
  });

  it('gives the new token once the partition changed elsewhere, never the one remembered from before', async () => {
    const { signIn, requests } = await signedInStore();
    const { homeAccountId, accessToken: old } = await signIn();
    const request = requests(homeAccountId);
    expect((await request().tokens.getToken({ scopes: SCOPES })).accessToken).toBe(old);

    // Another instance signs the user in again: a new token, written over the partition.
    const { accessToken: renewed } = await signIn();
    expect(renewed).not.toBe(old);
    expect((await request().tokens.getToken({ scopes: SCOPES })).accessToken).toBe(renewed);
  });

  it('reads the partition again for a call that waited (an approval) longer than a moment', async () => {
    const { store, signIn, requests } = await signedInStore();
    const { homeAccountId } = await signIn();
    let clock = Date.now();
    const request = requests(homeAccountId, new PartitionMemo(() => clock));
    await request().tokens.getToken({ scopes: SCOPES });
    const waiting = request();
    expect((await waiting.tokens.getToken({ scopes: SCOPES })).fromCache).toBe(true);
    // The partition goes while the call waits 2 s for its approval.
    await store.del(userPartitionKey(homeAccountId));
    clock += 2000;
    await expect(waiting.tokens.getToken({ scopes: SCOPES })).rejects.toBeInstanceOf(
      GraphGrantRequiredError,
    );
  });

  it('goes to MSAL, not to memory, when a fresh token is asked for', async () => {
    const { signIn, requests } = await signedInStore();
    const { homeAccountId } = await signIn();
    const request = requests(homeAccountId);
    await request().tokens.getToken({ scopes: SCOPES });
    const before = idp.tokenRequests.length;
    // This public test client cannot refresh as a confidential one: whatever the answer, it
    // came from the identity provider.
    await request()
      .tokens.getToken({ scopes: SCOPES, forceRefresh: true })
      .catch(() => undefined);
    expect(idp.tokenRequests.length).toBeGreaterThan(before);
  });
});
