import { createRemoteJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { BrowserUser, createTestAuth } from '../../support/auth.ts';
import { completeDeviceCode } from '../../support/browser.ts';
import { useIdpAndBrowser } from '../../support/fixtures.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const fx = useIdpAndBrowser();

const homeId = (user: IdpUser) => `${user.id}.${fx.idp.tenantId}`;

describe('interactive sign-in', () => {
  it('signs in through the system fx.browser with login, consent and the loopback return', async () => {
    const people = new BrowserUser(fx.browser);
    const { auth, events } = await createTestAuth(fx.idp, {
      openBrowser: people.opener(adele, true),
    });
    const result = await auth.signIn();
    expect(result.method).toBe('browser');
    expect(result.account).toMatchObject({
      username: adele.username,
      name: adele.name,
      tenantId: fx.idp.tenantId,
      homeAccountId: homeId(adele),
      roles: ['Valet.Mail.Send'],
      active: true,
    });
    // MSAL's authorize request used PKCE and the loopback redirect.
    const authorize = new URL(people.opened[0]!);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+\/?$/);
    expect(events.map((e) => e.name)).toEqual(['signed-in', 'active-changed']);

    const token = await auth.getToken({ scopes: ['User.Read'] });
    const { payload } = await jwtVerify(
      token.accessToken,
      createRemoteJWKSet(new URL(fx.idp.jwksUri)),
      { audience: 'https://graph.microsoft.com', issuer: fx.idp.issuer },
    );
    expect(payload).toMatchObject({ oid: adele.id, tid: fx.idp.tenantId });
    expect(String(payload.scp).split(' ')).toContain('User.Read');
  });

  it('signs in with a device code completed in the browser', async () => {
    const people = new BrowserUser(fx.browser);
    const { auth } = await createTestAuth(fx.idp);
    const prompts: string[] = [];
    let browserDone: Promise<unknown> = Promise.resolve();
    const result = await auth.signIn({
      method: 'device-code',
      onDeviceCode: (p) => {
        prompts.push(p.message);
        browserDone = (async () =>
          completeDeviceCode(
            await (await people.context(alex)).newPage(),
            p.verificationUri,
            p.userCode,
            alex,
            { consent: true },
          ))();
      },
    });
    await browserDone;
    expect(prompts).toHaveLength(1);
    expect(result).toMatchObject({
      method: 'device-code',
      account: { username: alex.username, homeAccountId: homeId(alex) },
    });
    expect(fx.idp.tokenRequests.some((r) => r.grantType === 'device_code')).toBe(true);
  });

  it('uses device code when no fx.browser can be shown', async () => {
    const people = new BrowserUser(fx.browser);
    // Headless Linux: no DISPLAY or WAYLAND_DISPLAY, so the order skips the fx.browser.
    const { auth } = await createTestAuth(fx.idp, { env: {}, openBrowser: people.opener(adele) });
    let browserDone: Promise<unknown> = Promise.resolve();
    const result = await auth.signIn({
      onDeviceCode: (p) => {
        browserDone = (async () =>
          completeDeviceCode(
            await (await people.context(adele)).newPage(),
            p.verificationUri,
            p.userCode,
            adele,
          ))();
      },
    });
    await browserDone;
    expect(result.method).toBe('device-code');
    expect(people.opened).toEqual([]);
  });
});
