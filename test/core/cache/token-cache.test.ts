import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublicClientApplication } from '@azure/msal-node';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheDamage } from '../../../main/core/cache/guarded-persistence.ts';
import {
  CACHE_FILE_NAME,
  openTokenCache,
  type TokenCache,
} from '../../../main/core/cache/token-cache.ts';

// This process has no Secret Service: no session bus, no X11 to autolaunch one.
beforeAll(() => {
  process.env.DBUS_SESSION_BUS_ADDRESS = 'unix:path=/nonexistent/valet-test-bus';
  delete process.env.DISPLAY;
});

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'valet-cache-'));
});

function msal(cache: TokenCache) {
  return new PublicClientApplication({
    auth: {
      clientId: '11111111-2222-4333-8444-555555555555',
      authority: 'https://idp.invalid/tenant',
      knownAuthorities: ['idp.invalid'],
    },
    cache: cache.createPlugin() ? { cachePlugin: cache.createPlugin()! } : {},
  });
}

describe('openTokenCache on Linux without a keyring', () => {
  it.runIf(process.platform === 'linux')('keeps tokens in memory and says why', async () => {
    const cache = await openTokenCache({ dataDir, allowPlaintext: false });
    expect(cache.createPlugin()).toBeUndefined();
    expect(cache.state).toMatchObject({ kind: 'memory', persisted: false });
    expect(cache.state.reason).toMatch(
      /^not persisted: the Secret Service keyring \(libsecret\) is not usable \(.+\)/,
    );
    expect(cache.state.reason).toContain('VALET_ALLOW_PLAINTEXT_CACHE=1');
    expect(await readdir(dataDir)).not.toContain(CACHE_FILE_NAME);
  });

  it.runIf(process.platform === 'linux')(
    'uses a 0600 plaintext file only when allowed',
    async () => {
      const cache = await openTokenCache({ dataDir, allowPlaintext: true });
      expect(cache.state).toMatchObject({ kind: 'plaintext', persisted: true });
      expect(cache.state.reason).toContain('VALET_ALLOW_PLAINTEXT_CACHE=1');
      // MSAL writes through the plugin when its cache changes.
      const pca = msal(cache);
      pca.getTokenCache().deserialize(JSON.stringify(sampleCache()));
      await pca.getTokenCache().getAllAccounts();
      const file = join(dataDir, CACHE_FILE_NAME);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    },
  );
});

describe('a damaged cache file', () => {
  it.runIf(process.platform === 'linux')(
    'is set aside, reported, and replaced by an empty cache',
    async () => {
      const file = join(dataDir, CACHE_FILE_NAME);
      await writeFile(file, '{"Account": {"x": ', { mode: 0o600 });
      const reports: string[] = [];
      const cache = await openTokenCache({
        dataDir,
        allowPlaintext: true,
        onRecovered: (r) => reports.push(r.setAsideTo),
      });
      const accounts = await msal(cache).getTokenCache().getAllAccounts();
      expect(accounts).toEqual([]);
      expect(cache.state.recovered).toMatchObject({ reason: 'it is not valid JSON' });
      expect(reports).toHaveLength(1);
      const aside = reports[0]!;
      expect(aside).toMatch(/token-cache\.json\.corrupt-/);
      expect(await readFile(aside, 'utf8')).toBe('{"Account": {"x": ');
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({});
    },
  );

  it('recognises MSAL-shaped JSON as healthy and anything else as damage', () => {
    expect(cacheDamage(JSON.stringify(sampleCache()))).toBeUndefined();
    expect(cacheDamage('{}')).toBeUndefined();
    expect(cacheDamage('[1,2]')).toBe('it is not an MSAL token cache');
    expect(cacheDamage('{"AccessToken": 5}')).toBe('it is not an MSAL token cache');
    expect(cacheDamage('garbage')).toBe('it is not valid JSON');
  });
});

function sampleCache() {
  return {
    Account: {
      'uid.utid-idp.invalid-tenant': {
        home_account_id: 'uid.utid',
        environment: 'idp.invalid',
        realm: 'tenant',
        local_account_id: 'uid',
        username: 'adele@contoso.test',
        authority_type: 'MSSTS',
      },
    },
    IdToken: {},
    AccessToken: {},
    RefreshToken: {},
    AppMetadata: {},
  };
}
