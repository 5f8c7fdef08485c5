import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { idpEnv } from '../support/auth.ts';
import { completeDeviceCode, newUserContext, signInAtIdp } from '../support/browser.ts';
import { cliEnv, runCli, spawnCli } from '../support/cli.ts';
import { useIdpAndBrowser } from '../support/fixtures.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const fx = useIdpAndBrowser();

async function freshEnv(extra: Record<string, string> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'valet-cli-'));
  return {
    dataDir,
    env: cliEnv(idpEnv(fx.idp, dataDir, { VALET_ALLOW_PLAINTEXT_CACHE: '1', ...extra })),
  };
}

async function deviceCodeLogin(env: NodeJS.ProcessEnv, user: IdpUser) {
  const login = spawnCli(['login', '--device-code', '--json'], env);
  const code = await login.nextEvent('device_code');
  expect(code).toMatchObject({
    verification_uri: expect.stringMatching(/^https:\/\/localhost:\d+\//),
    user_code: expect.any(String),
  });
  const page = await (await newUserContext(fx.browser)).newPage();
  await completeDeviceCode(page, String(code.verification_uri), String(code.user_code), user);
  const result = await login.exited;
  await page.context().close();
  return result;
}

describe('mcp-valet CLI against the test IdP', () => {
  it('login --device-code, status, accounts, logout', async () => {
    const { dataDir, env } = await freshEnv();
    const login = await deviceCodeLogin(env, adele);
    expect(login.code).toBe(0);
    expect(login.events.map((e) => e.event)).toEqual(['device_code', 'signed_in']);
    expect(login.events[1]).toMatchObject({
      account: { username: adele.username },
      method: 'device-code',
    });
    expect(login.stderr).toContain(`Signed in as ${adele.name} <${adele.username}>`);
    expect((await stat(join(dataDir, 'token-cache.json'))).mode & 0o777).toBe(0o600);

    const status = await runCli(['status', '--json'], env);
    expect(status.code).toBe(0);
    expect(status.events).toHaveLength(1);
    const s = status.events[0]!;
    expect(s).toMatchObject({
      event: 'status',
      signedIn: true,
      account: {
        username: adele.username,
        tenantId: fx.idp.tenantId,
        homeAccountId: `${adele.id}.${fx.idp.tenantId}`,
      },
      broker: { mode: 'off', available: false, reason: 'turned off (VALET_BROKER=off)' },
      cache: {
        kind: 'plaintext',
        persisted: true,
        reason: expect.stringContaining('VALET_ALLOW_PLAINTEXT_CACHE=1'),
      },
    });
    expect(Date.parse(String(s.tokenExpiresOn))).toBeGreaterThan(Date.now());
    // Expiry, never the token.
    expect(status.stdout).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(status.stderr).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);

    const second = await deviceCodeLogin(env, alex);
    expect(second.code).toBe(0);
    const accounts = await runCli(['accounts', '--json'], env);
    expect(
      (accounts.events[0]!.accounts as Array<{ username: string; active: boolean }>)
        .map((a) => [a.username, a.active])
        .sort(),
    ).toEqual([
      [adele.username, false],
      [alex.username, true],
    ]);
    const use = await runCli(['accounts', 'use', adele.username, '--json'], env);
    expect(use.events[0]).toMatchObject({
      event: 'active_account',
      account: { username: adele.username, active: true },
    });
    expect((await runCli(['status', '--json'], env)).events[0]).toMatchObject({
      account: { username: adele.username },
    });

    const logout = await runCli(['logout', '--json'], env);
    expect(logout.events[0]).toMatchObject({
      event: 'signed_out',
      accounts: [{ username: adele.username }],
    });
    expect((await runCli(['status', '--json'], env)).events[0]).toMatchObject({
      signedIn: true,
      account: { username: alex.username },
    });
    await runCli(['logout', '--all'], env);
    const after = await runCli(['status', '--json'], env);
    expect(after.events[0]).toMatchObject({ signedIn: false, account: null, accounts: [] });
    expect(after.stderr).toContain('Signed out. Run `mcp-valet login` to sign in.');
  });

  it('login --no-open prints the URL as an open_browser event and completes through the loopback', async () => {
    const { env } = await freshEnv();
    const login = spawnCli(['login', '--no-open', '--json'], env);
    const open = await login.nextEvent('open_browser');
    const url = new URL(String(open.url));
    expect(url.origin).toBe(fx.idp.origin);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const page = await (await newUserContext(fx.browser)).newPage();
    await page.goto(url.href);
    await signInAtIdp(page, alex);
    const result = await login.exited;
    await page.context().close();
    expect(result.code).toBe(0);
    expect(result.events.at(-1)).toMatchObject({
      event: 'signed_in',
      method: 'browser',
      account: { username: alex.username },
    });
  });

  it('warns that a sign-in without a keyring does not outlive the command', async () => {
    const { env } = await freshEnv({ VALET_ALLOW_PLAINTEXT_CACHE: '0' });
    const login = await deviceCodeLogin(env, adele);
    expect(login.code).toBe(0);
    expect(login.stderr).toMatch(
      /Warning: this sign-in is not saved once the command ends\. not persisted: .*VALET_ALLOW_PLAINTEXT_CACHE=1/,
    );
    const status = await runCli(['status', '--json'], env);
    expect(status.events[0]).toMatchObject({
      signedIn: false,
      cache: {
        kind: 'memory',
        persisted: false,
        reason: expect.stringMatching(/^not persisted: /),
      },
    });
  });
});
