import { AuthError } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { brokerAllowed } from '../../../main/core/auth/broker.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { BrowserUser, createTestAuth } from '../../support/auth.ts';
import { BrokerDouble } from '../../support/broker-double.ts';
import { useIdpAndBrowser } from '../../support/fixtures.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useIdpAndBrowser();

describe('OS broker', () => {
  it('signs in through an available broker, which receives the window handle, and serves silent calls and sign-out', async () => {
    const people = new BrowserUser(fx.browser);
    const broker = new BrokerDouble(fx.idp, people.opener(adele));
    const { auth } = await createTestAuth(fx.idp, {
      valetEnv: { VALET_BROKER: 'on' },
      brokerLoader: async () => broker,
      openBrowser: () => Promise.reject(new Error('the system fx.browser must not be used')),
    });
    const handle = Buffer.from([0x2a, 0x00, 0x11, 0x07]);
    const result = await auth.signIn({ windowHandle: handle });
    expect(result).toMatchObject({
      method: 'broker',
      account: { username: adele.username, viaBroker: true },
    });
    const interactive = broker.calls.filter((c) => c.method === 'acquireTokenInteractive');
    expect(interactive).toHaveLength(1);
    expect(interactive[0]!.windowHandle?.equals(handle)).toBe(true);
    expect(await auth.brokerState()).toMatchObject({ mode: 'on', available: true });

    expect((await auth.listAccounts()).map((a) => [a.username, a.viaBroker])).toEqual([
      [adele.username, true],
    ]);
    const token = await auth.getToken({ scopes: ['User.Read'] });
    expect(token.account.viaBroker).toBe(true);
    expect(broker.calls.some((c) => c.method === 'acquireTokenSilent')).toBe(true);

    await auth.signOut();
    expect(broker.calls.some((c) => c.method === 'signOut')).toBe(true);
    expect(await auth.listAccounts()).toEqual([]);
  });

  it('falls back to the system fx.browser when the broker fails, and records why', async () => {
    const people = new BrowserUser(fx.browser);
    const broker = new BrokerDouble(fx.idp, people.opener(adele));
    broker.failInteractive = new AuthError('platform_broker_error', '', 'WAM reported 0x80070520');
    const { auth, events } = await createTestAuth(fx.idp, {
      valetEnv: { VALET_BROKER: 'on' },
      brokerLoader: async () => broker,
      openBrowser: people.opener(adele),
    });
    const result = await auth.signIn();
    expect(result).toMatchObject({
      method: 'browser',
      account: { username: adele.username, viaBroker: false },
    });
    expect(people.opened).toHaveLength(1);
    const state = await auth.brokerState();
    expect(state.lastFallback?.reason).toContain('WAM reported 0x80070520');
    expect(events.find((e) => e.name === 'broker-fallback')?.payload).toMatchObject({
      reason: expect.stringContaining('0x80070520'),
    });
  });

  it('reports each step as it comes: the broker, the browser with its URL, then the device code when no browser opens', async () => {
    const broker = new BrokerDouble(fx.idp, new BrowserUser(fx.browser).opener(adele));
    broker.failInteractive = new AuthError('platform_broker_error', '', 'WAM reported 0x80070520');
    const { auth } = await createTestAuth(fx.idp, {
      valetEnv: { VALET_BROKER: 'on' },
      brokerLoader: async () => broker,
      openBrowser: () => Promise.reject(new Error('xdg-open: no method available')),
    });
    const steps: string[] = [];
    let approved: Promise<void> = Promise.resolve();
    const result = await auth.signIn({
      onBroker: () => steps.push('broker'),
      onBrowserUrl: (url) => steps.push(`browser ${new URL(url).origin}`),
      onDeviceCode: (p) => {
        steps.push(`device-code ${p.verificationUri}`);
        approved = fx.idp.approveDeviceCode(p.userCode, adele.username);
      },
    });
    await approved;
    expect(result.method).toBe('device-code');
    expect(steps).toEqual([
      'broker',
      `browser ${fx.idp.origin}`,
      expect.stringMatching(new RegExp(`^device-code ${fx.idp.origin}/`)),
    ]);
  });

  it('does not fall back when the person cancels the broker prompt', async () => {
    const people = new BrowserUser(fx.browser);
    const broker = new BrokerDouble(fx.idp, people.opener(adele));
    broker.failInteractive = new AuthError('user_canceled', '', 'User cancelled the flow');
    const { auth } = await createTestAuth(fx.idp, {
      valetEnv: { VALET_BROKER: 'on' },
      brokerLoader: async () => broker,
      openBrowser: people.opener(adele),
    });
    await expect(auth.signIn()).rejects.toMatchObject({ code: 'cancelled' });
    expect(people.opened).toEqual([]);
  });

  it('never calls a broker that reports itself unavailable', async () => {
    const people = new BrowserUser(fx.browser);
    const broker = new BrokerDouble(fx.idp, people.opener(adele));
    broker.isBrokerAvailable = false;
    const { auth } = await createTestAuth(fx.idp, {
      valetEnv: { VALET_BROKER: 'on' },
      brokerLoader: async () => broker,
      openBrowser: people.opener(adele),
    });
    await expect(auth.signIn()).resolves.toMatchObject({ method: 'browser' });
    await auth.getToken({ scopes: ['User.Read'] });
    await auth.listAccounts();
    await auth.signOut();
    expect(broker.calls).toEqual([]);
    expect(await auth.brokerState()).toMatchObject({
      available: false,
      reason: expect.stringContaining('not available'),
    });
  });

  it('loads the broker runtime only where it can work', async () => {
    let loads = 0;
    const loader = async () => {
      loads++;
      return new BrokerDouble(fx.idp, async () => {});
    };
    const linux = await createTestAuth(fx.idp, {
      valetEnv: { VALET_BROKER: 'auto' },
      brokerLoader: loader,
      platform: 'linux',
    });
    expect(await linux.auth.brokerState()).toMatchObject({
      available: false,
      reason: expect.stringContaining('VALET_BROKER=on'),
    });
    const off = await createTestAuth(fx.idp, {
      valetEnv: { VALET_BROKER: 'off' },
      brokerLoader: loader,
      platform: 'win32',
    });
    expect(await off.auth.brokerState()).toMatchObject({
      available: false,
      reason: 'turned off (VALET_BROKER=off)',
    });
    expect(loads).toBe(0);
    const windows = await createTestAuth(fx.idp, {
      valetEnv: { VALET_BROKER: 'auto' },
      brokerLoader: loader,
      platform: 'win32',
    });
    expect(await windows.auth.brokerState()).toMatchObject({ available: true });
    expect(loads).toBe(1);
    expect(brokerAllowed('auto', 'darwin').allowed).toBe(true);
  });
});
