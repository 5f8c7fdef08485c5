import { describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { BrowserUser, createTestAuth } from '../../support/auth.ts';
import { useIdpAndBrowser } from '../../support/fixtures.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const fx = useIdpAndBrowser();

describe('several accounts', () => {
  it('lists two users, switches between them, and removing one leaves the other', async () => {
    const people = new BrowserUser(fx.browser);
    let current = adele;
    const { auth, events } = await createTestAuth(fx.idp, {
      openBrowser: (url) => people.opener(current)(url),
    });
    await auth.signIn();
    current = alex;
    await auth.signIn();

    let accounts = await auth.listAccounts();
    expect(accounts.map((a) => [a.username, a.active]).sort()).toEqual([
      [adele.username, false],
      [alex.username, true],
    ]);
    // Tokens are per account.
    expect((await auth.getToken({ scopes: ['User.Read'] })).account.username).toBe(alex.username);
    expect(
      (await auth.getToken({ account: adele.username, scopes: ['User.Read'] })).account.username,
    ).toBe(adele.username);

    await auth.useAccount(adele.username);
    expect((await auth.activeAccount())?.username).toBe(adele.username);
    expect((await auth.getToken({ scopes: ['User.Read'] })).account.username).toBe(adele.username);

    const removed = await auth.signOut({ account: adele.username });
    expect(removed.map((a) => a.username)).toEqual([adele.username]);
    accounts = await auth.listAccounts();
    expect(accounts.map((a) => [a.username, a.active])).toEqual([[alex.username, true]]);
    await expect(
      auth.getToken({ account: alex.username, scopes: ['User.Read'] }),
    ).resolves.toBeDefined();
    await expect(
      auth.getToken({ account: adele.username, scopes: ['User.Read'] }),
    ).rejects.toMatchObject({ code: 'no_account' });
    expect(events.filter((e) => e.name === 'signed-out')).toHaveLength(1);

    await auth.signOut({ all: true });
    expect(await auth.listAccounts()).toEqual([]);
  });

  it('refuses to switch to an account that is not cached, naming the fix', async () => {
    const { auth } = await createTestAuth(fx.idp);
    await expect(auth.useAccount('nobody@contoso.test')).rejects.toMatchObject({
      code: 'no_account',
      message: expect.stringContaining('mcp-valet accounts'),
    });
  });

  it('prints the URL instead of opening a fx.browser, and cancels cleanly', async () => {
    const people = new BrowserUser(fx.browser);
    const { auth } = await createTestAuth(fx.idp, {
      openBrowser: () => Promise.reject(new Error('must not open')),
    });
    const urls: string[] = [];
    let browserDone: Promise<unknown> = Promise.resolve();
    const signedIn = auth.signIn({
      openBrowser: false,
      onBrowserUrl: (url) => {
        urls.push(url);
        browserDone = people.opener(adele)(url);
      },
    });
    await expect(signedIn).resolves.toMatchObject({
      method: 'browser',
      account: { username: adele.username },
    });
    await browserDone;
    expect(urls).toHaveLength(1);

    const controller = new AbortController();
    const cancelled = auth.signIn({
      openBrowser: false,
      signal: controller.signal,
      onBrowserUrl: () => controller.abort(),
    });
    await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });
  });
});
