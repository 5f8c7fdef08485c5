import { randomBytes } from 'node:crypto';
import { PublicClientApplication, type AccountInfo } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKeyOf, type CacheKeys } from '../../../main/core/remote/cache-keys.ts';
import {
  oboPartitionKey,
  userCachePlugin,
  userPartitionKey,
} from '../../../main/core/remote/shared-token-cache.ts';
import { MemoryBacking } from '../../../main/core/remote/store/memory-backing.ts';
import { MemoryStore } from '../../../main/core/remote/store/memory-store.ts';
import { DEMO_USERS, type IdpUser, type RunningIdp } from '../../../main/demo/idp/index.ts';
import { msalAuthFor, startTestIdp } from '../../support/idp.ts';
import { JWT_SHAPE } from '../../support/remote-server.ts';

const [adele] = DEMO_USERS as [IdpUser];
const keys: CacheKeys = { current: cacheKeyOf(randomBytes(32)) };
let idp: RunningIdp;

beforeAll(async () => {
  idp = await startTestIdp();
});
afterAll(() => idp?.close());

/** An instance's MSAL client for one user, over the shared store (as remote mode builds one per user). */
function clientOn(store: MemoryStore, homeAccountId?: string, damaged: string[] = []) {
  return new PublicClientApplication({
    auth: msalAuthFor(idp),
    cache: {
      cachePlugin: userCachePlugin(store, keys, homeAccountId, {
        onDamaged: (key, reason) => damaged.push(`${key}: ${reason}`),
      }),
    },
  });
}

async function signIn(store: MemoryStore): Promise<{ account: AccountInfo; accessToken: string }> {
  const result = await clientOn(store).acquireTokenByDeviceCode({
    scopes: ['User.Read'],
    deviceCodeCallback: (response) => void idp.approveDeviceCode(response.userCode, adele.username),
  });
  return { account: result!.account!, accessToken: result!.accessToken };
}

describe('the token cache remote instances share', () => {
  it('is sealed in the store, partitioned by user, and lets another instance get a token silently with no request to the IdP', async () => {
    const backing = new MemoryBacking();
    const a = new MemoryStore({ backing });
    const b = new MemoryStore({ backing });
    const { account, accessToken } = await signIn(a);
    expect(account.homeAccountId).toBe(`${adele.id}.${idp.tenantId}`);

    // What the store holds, as a dump of Redis would show it.
    const raw = JSON.stringify(await a.get(userPartitionKey(account.homeAccountId)));
    expect(raw).toMatch(/^"mv1\./);
    expect(raw).not.toContain(accessToken.slice(0, 40));
    // Case-sensitive JWT shape: a lone `eyJ`, any case, turns up in random ciphertext.
    expect(raw).not.toMatch(JWT_SHAPE);
    expect(raw).not.toMatch(/refresh|secret|adele/i);

    const before = idp.tokenRequests.length;
    const onB = clientOn(b, account.homeAccountId);
    const [cached] = await onB.getTokenCache().getAllAccounts();
    expect(cached?.username).toBe(adele.username);
    const silent = await onB.acquireTokenSilent({ account: cached!, scopes: ['User.Read'] });
    expect(silent.accessToken).toBe(accessToken);
    expect(idp.tokenRequests.length).toBe(before);
    await Promise.all([a.close(), b.close()]);
  });

  it('drops a partition that was tampered with, says so without its content, and the user must sign in again', async () => {
    const store = new MemoryStore();
    const { account } = await signIn(store);
    const name = userPartitionKey(account.homeAccountId);
    const sealed = (await store.get(name))!;
    const parts = sealed.split('.');
    parts[3] = (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1);
    await store.set(name, parts.join('.'));

    const damaged: string[] = [];
    const other = clientOn(store, account.homeAccountId, damaged);
    expect(await other.getTokenCache().getAllAccounts()).toEqual([]);
    expect(damaged).toEqual([
      expect.stringMatching(new RegExp(`^mv:${name}: .*does not open with cache key`)),
    ]);
    expect(damaged.join()).not.toContain(parts[3]!.slice(0, 20));
    expect(await store.get(name)).toBeNull();
    await store.close();
  });

  it('names an on-behalf-of partition by the assertion’s hash, never the assertion', () => {
    const assertion = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcGkifQ.sig';
    const key = oboPartitionKey(assertion);
    expect(key).toMatch(/^msal:obo:[0-9a-f]{64}$/);
    expect(key).not.toContain('eyJ');
  });
});
