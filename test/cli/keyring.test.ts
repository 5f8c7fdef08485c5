import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser, type RunningIdp } from '../../main/demo/idp/index.ts';
import { idpEnv } from '../support/auth.ts';
import { completeDeviceCode, launchBrowser, newUserContext } from '../support/browser.ts';
import { cliEnv, runCli, spawnCli } from '../support/cli.ts';
import { startTestIdp } from '../support/idp.ts';
import { startKeyring, type Keyring } from '../support/keyring.ts';

const [adele] = DEMO_USERS as [IdpUser];
let idp: RunningIdp;
let browser: Browser;
let keyring: Keyring;

beforeAll(async () => {
  [idp, browser, keyring] = await Promise.all([startTestIdp(), launchBrowser(), startKeyring()]);
});
afterAll(async () => {
  await browser?.close();
  await idp?.close();
  await keyring?.stop();
});

describe('token cache in a real Secret Service keyring (gnome-keyring)', () => {
  it('a sign-in in one process is seen by status in a second process, and no token touches the disk', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-keyring-'));
    const env = cliEnv({ ...idpEnv(idp, dataDir), ...keyring.env });
    const login = spawnCli(['login', '--device-code', '--json'], env);
    const code = await login.nextEvent('device_code');
    const page = await (await newUserContext(browser)).newPage();
    await completeDeviceCode(page, String(code.verification_uri), String(code.user_code), adele);
    const done = await login.exited;
    expect(done.code).toBe(0);
    expect(done.stderr).not.toContain('not saved');

    const status = await runCli(['status', '--json'], env);
    expect(status.code).toBe(0);
    expect(status.events[0]).toMatchObject({
      signedIn: true,
      account: { username: adele.username, tenantId: idp.tenantId },
      cache: {
        kind: 'libsecret',
        persisted: true,
        reason: 'stored in the Secret Service keyring (libsecret)',
      },
    });
    // The file is only libsecret's change marker; the tokens live in the keyring.
    expect(await readFile(join(dataDir, 'token-cache.json'), 'utf8')).toBe('{}');

    const logout = await runCli(['logout', '--json'], env);
    expect(logout.code).toBe(0);
    expect((await runCli(['status', '--json'], env)).events[0]).toMatchObject({
      signedIn: false,
      cache: { kind: 'libsecret' },
    });
  });

  it('sets a damaged keyring entry aside and starts a fresh cache', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-keyring-'));
    const env = cliEnv({ ...idpEnv(idp, dataDir), ...keyring.env });
    expect((await runCli(['status', '--json'], env)).events[0]).toMatchObject({
      cache: { kind: 'libsecret' },
    });
    // Damage the entry from outside, as another program could.
    const damage = spawnSync(
      process.execPath,
      [
        '-e',
        `import('keytar').then((k) => k.default.setPassword('MCP Valet', 'msal-token-cache', '{"Account": tru'))`,
      ],
      { env, cwd: process.cwd() },
    );
    expect(damage.status).toBe(0);
    const status = await runCli(['status', '--json'], env);
    expect(status.code).toBe(0);
    expect(status.events[0]).toMatchObject({
      signedIn: false,
      cache: {
        kind: 'libsecret',
        recovered: {
          reason: 'it is not valid JSON',
          setAsideTo: expect.stringMatching(
            /^the Secret Service keyring \(libsecret\) entry "MCP Valet\/msal-token-cache\.corrupt-/,
          ),
        },
      },
    });
    expect(status.stderr).toContain('the token cache was damaged (it is not valid JSON)');
    // Recovered for good: the next process finds a healthy cache.
    const again = await runCli(['status', '--json'], env);
    expect((again.events[0]!.cache as Record<string, unknown>).recovered).toBeUndefined();
  });
});
