import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertificateAuthority,
  startIdp,
  type RunningIdp,
} from '../../main/demo/idp/index.ts';
import { idpEnv } from '../support/auth.ts';
import { cliEnv, runCli, type CliResult } from '../support/cli.ts';
import { startTestIdp } from '../support/idp.ts';

let idp: RunningIdp;
beforeAll(async () => {
  idp = await startTestIdp();
});
afterAll(async () => {
  await idp?.close();
});

async function dataDir() {
  return mkdtemp(join(tmpdir(), 'valet-cli-err-'));
}

/** A failure: exit 1, one `error` event on stdout and nothing else, one human line, no stack trace. */
function expectCleanFailure(result: CliResult, code: string): string {
  expect(result.code).toBe(1);
  expect(result.stdout.trim().split('\n')).toHaveLength(1);
  expect(result.events).toEqual([{ event: 'error', code, message: expect.any(String) }]);
  const message = String(result.events[0]!.message);
  expect(result.stderr).toContain(`mcp-valet: ${message}`);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(message).not.toContain('\n');
  return message;
}

describe('bad configuration', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      'a client ID that is not a GUID',
      { VALET_CLIENT_ID: 'valet' },
      /^VALET_CLIENT_ID is not a GUID \(got 'valet'\): use the Application \(client\) ID/,
    ],
    [
      'an http authority',
      { VALET_AUTHORITY: 'http://localhost:1/t' },
      /^VALET_AUTHORITY is not https .*: use an https URL/,
    ],
    [
      'an unknown broker mode',
      { VALET_BROKER: 'sometimes' },
      /^VALET_BROKER is not a known broker mode \(got 'sometimes'\): use one of auto, on, off/,
    ],
    [
      'a data dir that is not writable',
      { VALET_DATA_DIR: '/proc/valet' },
      /^VALET_DATA_DIR \/proc\/valet is not writable \(\w+\): choose a directory you own/,
    ],
  ];
  for (const [name, env, pattern] of cases) {
    it(`fails at start with one line for ${name}`, async () => {
      const result = await runCli(
        ['status', '--json'],
        cliEnv({ VALET_DATA_DIR: await dataDir(), ...env }),
      );
      expect(expectCleanFailure(result, 'config_invalid')).toMatch(pattern);
    });
  }

  it('says how to configure when no client ID is set', async () => {
    const result = await runCli(
      ['login', '--device-code', '--json'],
      cliEnv({ VALET_DATA_DIR: await dataDir() }),
    );
    expect(expectCleanFailure(result, 'not_configured')).toContain(
      'set VALET_CLIENT_ID and VALET_TENANT_ID',
    );
  });

  it('exits 2 on a usage error', async () => {
    const unknown = await runCli(['frobnicate'], cliEnv());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const missing = await runCli(['accounts', 'use'], cliEnv());
    expect(missing.code).toBe(2);
    expect((await runCli(['--help'], cliEnv())).code).toBe(0);
  });
});

describe('an identity provider that cannot be used', () => {
  it('names an unreachable host', async () => {
    const gone = await startTestIdp();
    const authority = gone.authority;
    await gone.close();
    const env = cliEnv(idpEnv(idp, await dataDir(), { VALET_AUTHORITY: authority }));
    const message = expectCleanFailure(
      await runCli(['login', '--device-code', '--json'], env),
      'authority_unavailable',
    );
    expect(message).toMatch(
      /cannot be reached \(ECONNREFUSED\): check VALET_AUTHORITY, that the identity provider is running/,
    );
  });

  it('names an untrusted certificate and the fix', async () => {
    const stranger = await startIdp({ ca: await createCertificateAuthority() });
    try {
      const env = cliEnv(idpEnv(stranger, await dataDir()));
      const message = expectCleanFailure(
        await runCli(['login', '--device-code', '--json'], env),
        'authority_unavailable',
      );
      expect(message).toMatch(
        /the TLS certificate of localhost:\d+ is not trusted \(\w+\): .*NODE_EXTRA_CA_CERTS/,
      );
    } finally {
      await stranger.close();
    }
  });

  it('names an issuer that does not match the authority host', async () => {
    const env = cliEnv(
      idpEnv(idp, await dataDir(), {
        VALET_AUTHORITY: idp.authority.replace('localhost', '127.0.0.1'),
      }),
    );
    const message = expectCleanFailure(
      await runCli(['login', '--device-code', '--json'], env),
      'authority_unavailable',
    );
    expect(message).toMatch(
      /issuer https:\/\/localhost:\d+\/.* does not match the authority host 127\.0\.0\.1:\d+: use the same host name/,
    );
  });
});
