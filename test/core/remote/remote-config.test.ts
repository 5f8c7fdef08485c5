import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../main/core/config/load-config.ts';
import {
  loadRemoteConfig,
  type RemoteConfigOptions,
} from '../../../main/core/remote/remote-config.ts';

const CLIENT_ID = '11111111-2222-4333-8444-555555555555';
const TENANT_ID = '99999999-8888-4777-8666-555555555555';
const SECRET = 'Zq8~very.secret-value_for-the-app';
const CACHE_KEY = randomBytes(32).toString('base64');

/** The least a remote server needs: public URL, app, tenant and one credential. */
const BASE = {
  VALET_PUBLIC_URL: 'https://valet.contoso.com',
  VALET_CLIENT_ID: CLIENT_ID,
  VALET_TENANT_ID: TENANT_ID,
  VALET_CLIENT_ASSERTION: 'managed-identity',
};

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'valet-remote-config-'));
});

/** Loads with the test's own data dir unless `env` names one. */
function load(env: Record<string, string | undefined>, options: RemoteConfigOptions = {}) {
  return loadRemoteConfig(
    { VALET_DATA_DIR: dir, ...env },
    { hostname: 'web', pid: 42, ...options },
  );
}

/** The ConfigError for an environment, checked to be one line. */
async function failure(
  env: Record<string, string | undefined>,
  options: RemoteConfigOptions = {},
): Promise<ConfigError> {
  const err = await load(env, options).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).message).not.toContain('\n');
  return err as ConfigError;
}

async function writeConfig(remote: Record<string, unknown>): Promise<string> {
  const file = join(dir, 'config.json');
  await writeFile(file, JSON.stringify({ clientId: CLIENT_ID, remote }));
  return file;
}

async function writeTemp(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

describe('loadRemoteConfig defaults', () => {
  it('fills every optional setting with its documented default', async () => {
    const config = await load(BASE);
    expect(config).toMatchObject({
      publicUrl: 'https://valet.contoso.com',
      mcpUrl: 'https://valet.contoso.com/mcp',
      listen: { host: '127.0.0.1', port: 8080 },
      auth: 'valet',
      redisUrl: undefined,
      redisPrefix: 'mv:',
      instanceId: 'web-42',
      tls: undefined,
      trustProxy: 0,
      clientId: CLIENT_ID,
      tenantId: TENANT_ID,
      credential: { kind: 'managed-identity', setting: 'VALET_CLIENT_ASSERTION' },
      cacheKeys: undefined,
      apiAudiences: [CLIENT_ID, `api://${CLIENT_ID}`, 'https://valet.contoso.com/mcp'],
      apiScope: 'https://valet.contoso.com/mcp/Valet.Use',
      entraClients: [],
      acceptV1Tokens: false,
      cimdHosts: { anyPublic: true, hosts: [] },
      dcr: true,
      cimd: true,
      tokenTtlSeconds: 3600,
      refreshTtlSeconds: 2_592_000,
      consentTtlDays: 90,
      approvalTimeoutSeconds: 300,
      auditDir: undefined,
      admins: [],
      warnings: [],
    });
    expect(config.authority.url).toBe(`https://login.microsoftonline.com/${TENANT_ID}`);
    expect(config.sources).toMatchObject({ publicUrl: 'env', listen: 'default', auth: 'default' });
  });

  it('makes the public URL canonical: lower-case host, no trailing slash, MCP under its path', async () => {
    const config = await load({ ...BASE, VALET_PUBLIC_URL: 'https://Valet.Contoso.com/team/' });
    expect(config.publicUrl).toBe('https://valet.contoso.com/team');
    expect(config.mcpUrl).toBe('https://valet.contoso.com/team/mcp');
  });

  it('turns a host name that an instance ID may not hold into a valid default instance ID', async () => {
    const config = await load(BASE, { hostname: '_web 1.contoso.com', pid: 7 });
    expect(config.instanceId).toBe('web-1.contoso.com-7');
  });
});

describe('loadRemoteConfig public URL', () => {
  it('refuses a plain-http public URL on a real host, naming the fix', async () => {
    const err = await failure({ ...BASE, VALET_PUBLIC_URL: 'http://valet.contoso.com' });
    expect(err.setting).toBe('publicUrl');
    expect(err.message).toBe(
      "VALET_PUBLIC_URL is not https (got 'http://valet.contoso.com'): use the https URL your users reach, such as https://valet.contoso.com (plain http is allowed on localhost, 127.0.0.1 and [::1] only)",
    );
  });

  it.each(['http://localhost:8080', 'http://127.0.0.1:9000', 'http://[::1]:9000'])(
    'allows plain http on the loopback address %s',
    async (url) => {
      const config = await load({ ...BASE, VALET_PUBLIC_URL: url });
      expect(config.publicUrl).toBe(url);
      expect(config.mcpUrl).toBe(`${url}/mcp`);
    },
  );

  it('refuses a public URL with a query or a fragment', async () => {
    for (const url of ['https://valet.contoso.com/?x=1', 'https://valet.contoso.com/#top']) {
      const err = await failure({ ...BASE, VALET_PUBLIC_URL: url });
      expect(err.message).toMatch(/^VALET_PUBLIC_URL has a query or a fragment \(got '/);
    }
  });

  it('refuses a public URL that is not a URL with a ConfigError, not a crash', async () => {
    const err = await failure({ ...BASE, VALET_PUBLIC_URL: 'valet.contoso.com' });
    expect(err.message).toMatch(/^VALET_PUBLIC_URL is not a URL \(got 'valet\.contoso\.com'\): /);
  });

  it('stops when no public URL is set, saying which flag or variable sets it', async () => {
    const err = await failure({ ...BASE, VALET_PUBLIC_URL: undefined });
    expect(err.message).toBe(
      'VALET_PUBLIC_URL is not set: pass --public-url or set VALET_PUBLIC_URL to the https URL your users reach, such as https://valet.contoso.com',
    );
  });
});

describe('loadRemoteConfig client credential', () => {
  const NO_CREDENTIAL = { ...BASE, VALET_CLIENT_ASSERTION: undefined };

  it('stops when no credential is set, listing the four ways to give one', async () => {
    const err = await failure(NO_CREDENTIAL);
    expect(err.setting).toBe('credential');
    expect(err.message).toBe(
      'No client credential is set: set exactly one of VALET_CLIENT_CERT_FILE (one PEM with the certificate and its key), VALET_CLIENT_ASSERTION_FILE (a federated token file), VALET_CLIENT_ASSERTION=managed-identity, or VALET_CLIENT_SECRET (discouraged)',
    );
  });

  it('stops when two credentials are set, naming both but not the secret', async () => {
    const err = await failure({ ...BASE, VALET_CLIENT_SECRET: SECRET });
    expect(err.message).toBe(
      '2 client credentials are set (VALET_CLIENT_ASSERTION, VALET_CLIENT_SECRET): keep exactly one of them and unset the others',
    );
    expect(err.message).not.toContain(SECRET);
  });

  it('counts a credential in config.json against one in the environment', async () => {
    const configFile = await writeConfig({ clientSecret: SECRET });
    const err = await failure(BASE, { configFile });
    expect(err.message).toBe(
      `2 client credentials are set (VALET_CLIENT_ASSERTION, remote.clientSecret in ${configFile}): keep exactly one of them and unset the others`,
    );
    expect(err.message).not.toContain(SECRET);
  });

  it('accepts a client secret with a warning that Microsoft discourages secrets, and never shows it', async () => {
    const config = await load({ ...NO_CREDENTIAL, VALET_CLIENT_SECRET: SECRET });
    expect(config.credential.kind).toBe('secret');
    expect(config.credential.kind === 'secret' && config.credential.secret.reveal()).toBe(SECRET);
    expect(config.warnings).toEqual([
      'VALET_CLIENT_SECRET is set: Microsoft discourages client secrets and recommends a certificate (VALET_CLIENT_CERT_FILE) or a federated credential (VALET_CLIENT_ASSERTION_FILE, or VALET_CLIENT_ASSERTION=managed-identity) instead',
    ]);
    expect(JSON.stringify(config)).not.toContain(SECRET);
    expect(inspect(config, { depth: 10 })).not.toContain(SECRET);
  });

  it('uses AZURE_FEDERATED_TOKEN_FILE as the assertion file when no other credential is set', async () => {
    const tokenFile = await writeTemp('token', 'eyJ.assertion.x');
    const config = await load({ ...NO_CREDENTIAL, AZURE_FEDERATED_TOKEN_FILE: tokenFile });
    expect(config.credential).toEqual({
      kind: 'assertion-file',
      file: tokenFile,
      setting: 'AZURE_FEDERATED_TOKEN_FILE',
    });
  });

  it('lets a configured credential win over AZURE_FEDERATED_TOKEN_FILE instead of counting it twice', async () => {
    const tokenFile = await writeTemp('token', 'eyJ.assertion.x');
    const config = await load({ ...BASE, AZURE_FEDERATED_TOKEN_FILE: tokenFile });
    expect(config.credential.kind).toBe('managed-identity');
  });

  it('refuses an assertion file that does not exist, naming the path', async () => {
    const missing = join(dir, 'nope');
    const err = await failure({ ...NO_CREDENTIAL, VALET_CLIENT_ASSERTION_FILE: missing });
    expect(err.message).toBe(
      `VALET_CLIENT_ASSERTION_FILE ${missing} cannot be read (ENOENT): give the file the platform writes the federated token to; check the path and that this user can read the file`,
    );
  });

  it('refuses any VALET_CLIENT_ASSERTION but managed-identity without quoting it, since it may be a token', async () => {
    const assertion = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig';
    const err = await failure({ ...BASE, VALET_CLIENT_ASSERTION: assertion });
    expect(err.message).toBe(
      'VALET_CLIENT_ASSERTION is not managed-identity: use managed-identity; to use a federated token, put it in a file and set VALET_CLIENT_ASSERTION_FILE',
    );
  });

  it('passes the user-assigned managed identity client ID along', async () => {
    const miClientId = '22222222-3333-4444-8555-666666666666';
    const config = await load({ ...BASE, VALET_MI_CLIENT_ID: miClientId });
    expect(config.credential).toEqual({
      kind: 'managed-identity',
      userAssignedClientId: miClientId,
      setting: 'VALET_CLIENT_ASSERTION',
    });
  });

  it('refuses VALET_MI_CLIENT_ID without managed identity as the credential', async () => {
    const err = await failure({
      ...NO_CREDENTIAL,
      VALET_CLIENT_SECRET: SECRET,
      VALET_MI_CLIENT_ID: '22222222-3333-4444-8555-666666666666',
    });
    expect(err.message).toMatch(
      /^VALET_MI_CLIENT_ID is set but VALET_CLIENT_ASSERTION is not managed-identity \(got '2222.*'\): set VALET_CLIENT_ASSERTION=managed-identity/,
    );
  });
});

describe('loadRemoteConfig cache key', () => {
  it('reads a base64 key of 32 bytes and gives it an ID that is not the key', async () => {
    const config = await load({ ...BASE, VALET_CACHE_KEY: CACHE_KEY });
    expect(config.cacheKeys?.current.key.reveal().toString('base64')).toBe(CACHE_KEY);
    expect(config.cacheKeys?.current.id).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(config)).not.toContain(CACHE_KEY);
  });

  it('refuses a key of the wrong length without quoting it', async () => {
    const short = randomBytes(16).toString('base64');
    const err = await failure({ ...BASE, VALET_CACHE_KEY: short });
    expect(err.message).toBe(
      'VALET_CACHE_KEY is 16 bytes, not 32: use base64 of 32 random bytes, such as the output of: openssl rand -base64 32',
    );
  });

  it('refuses a key that is not base64 without quoting it', async () => {
    const bad = 'not a key at all!';
    const err = await failure({ ...BASE, VALET_CACHE_KEY: bad });
    expect(err.message).toBe(
      'VALET_CACHE_KEY is not base64: use base64 of 32 random bytes, such as the output of: openssl rand -base64 32',
    );
  });

  it('requires a cache key when Redis is used', async () => {
    const err = await failure({ ...BASE, VALET_REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(err.setting).toBe('cacheKey');
    expect(err.message).toBe(
      'VALET_CACHE_KEY is not set, but VALET_REDIS_URL is: the token cache shared through Redis is encrypted with it; set VALET_CACHE_KEY or VALET_CACHE_KEY_FILE to base64 of 32 random bytes (openssl rand -base64 32), the same on every instance',
    );
  });

  it('names --redis when the flag asked for Redis', async () => {
    const err = await failure(BASE, { flags: { redisUrl: 'redis://127.0.0.1:6379' } });
    expect(err.message).toMatch(/^VALET_CACHE_KEY is not set, but --redis is:/);
  });

  it('reads the key and the previous one from files, for rotation', async () => {
    const previous = randomBytes(32).toString('base64');
    const config = await load({
      ...BASE,
      VALET_REDIS_URL: 'rediss://:pw@cache.contoso.com:6380',
      VALET_CACHE_KEY_FILE: await writeTemp('key', `${CACHE_KEY}\n`),
      VALET_CACHE_KEY_PREVIOUS_FILE: await writeTemp('old-key', previous),
    });
    expect(config.cacheKeys?.current.key.reveal().toString('base64')).toBe(CACHE_KEY);
    expect(config.cacheKeys?.previous?.key.reveal().toString('base64')).toBe(previous);
    expect(config.cacheKeys?.previous?.id).not.toBe(config.cacheKeys?.current.id);
  });

  it('refuses a key file of the wrong length, naming the file but not its content', async () => {
    const content = randomBytes(31).toString('base64');
    const file = await writeTemp('key', content);
    const err = await failure({ ...BASE, VALET_CACHE_KEY_FILE: file });
    expect(err.message).toBe(
      `VALET_CACHE_KEY_FILE ${file} is 31 bytes, not 32: use base64 of 32 random bytes, such as the output of: openssl rand -base64 32`,
    );
    expect(err.message).not.toContain(content);
  });

  it('refuses both a key and a key file', async () => {
    const err = await failure({
      ...BASE,
      VALET_CACHE_KEY: CACHE_KEY,
      VALET_CACHE_KEY_FILE: await writeTemp('key', CACHE_KEY),
    });
    expect(err.message).toBe(
      'Both VALET_CACHE_KEY and VALET_CACHE_KEY_FILE are set: keep one of them',
    );
    expect(err.message).not.toContain(CACHE_KEY);
  });
});

describe('loadRemoteConfig sources', () => {
  it('takes the environment over config.json, and config.json over the defaults', async () => {
    const configFile = await writeConfig({
      publicUrl: 'https://file.contoso.com',
      listen: '0.0.0.0:9000',
      auth: 'both',
      tokenTtl: 600,
    });
    const config = await load({ ...BASE, VALET_REMOTE_AUTH: 'entra' }, { configFile });
    expect(config.publicUrl).toBe('https://valet.contoso.com');
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(config.auth).toBe('entra');
    expect(config.tokenTtlSeconds).toBe(600);
    expect(config.refreshTtlSeconds).toBe(2_592_000);
    expect(config.sources).toMatchObject({
      publicUrl: 'env',
      listen: 'file',
      auth: 'env',
      tokenTtl: 'file',
      refreshTtl: 'default',
    });
  });

  it('takes the command-line flags over the environment', async () => {
    const config = await load(
      { ...BASE, VALET_LISTEN: '0.0.0.0:9000', VALET_REMOTE_AUTH: 'entra' },
      {
        flags: {
          publicUrl: 'https://flag.contoso.com',
          listen: '127.0.0.1:0',
          auth: 'both',
          instanceId: 'web-2',
          trustProxy: '2',
        },
      },
    );
    expect(config).toMatchObject({
      publicUrl: 'https://flag.contoso.com',
      listen: { host: '127.0.0.1', port: 0 },
      auth: 'both',
      instanceId: 'web-2',
      trustProxy: 2,
    });
    expect(config.sources).toMatchObject({ publicUrl: 'flag', listen: 'flag', auth: 'flag' });
  });

  it('names a bad value in config.json by its key and file', async () => {
    const configFile = await writeConfig({ auth: 'oauth' });
    const err = await failure(BASE, { configFile });
    expect(err.message).toBe(
      `remote.auth in ${configFile} is not a known mode (got 'oauth'): use one of valet, entra, both`,
    );
  });

  it('refuses an unknown key in the remote section, listing the known ones', async () => {
    const configFile = await writeConfig({ publicURL: 'https://valet.contoso.com' });
    const err = await failure(BASE, { configFile });
    expect(err.message).toMatch(
      new RegExp(
        `^remote in ${configFile} has unknown setting publicURL: known remote settings are publicUrl, listen, `,
      ),
    );
  });

  it('resolves a file path in config.json against the config file, not the working directory', async () => {
    await writeTemp('token', 'eyJ.assertion.x');
    const configFile = await writeConfig({ clientAssertionFile: 'token' });
    const config = await load({ ...BASE, VALET_CLIENT_ASSERTION: undefined }, { configFile });
    expect(config.credential).toMatchObject({ kind: 'assertion-file', file: join(dir, 'token') });
  });
});

describe('loadRemoteConfig listener, TLS, proxies and Redis', () => {
  it('refuses a listen address that is not HOST:PORT', async () => {
    const err = await failure(BASE, { flags: { listen: '8080' } });
    expect(err.message).toBe(
      "--listen is not HOST:PORT (got '8080'): use HOST:PORT such as 127.0.0.1:8080, 0.0.0.0:8080 or [::]:8080 (port 0 picks a free port)",
    );
    for (const listen of ['127.0.0.1:65536', '::1:8080', 'local host:80', '127.0.0.1:']) {
      const bad = await failure({ ...BASE, VALET_LISTEN: listen });
      expect(bad.message).toMatch(/^VALET_LISTEN is not HOST:PORT/);
    }
  });

  it('accepts an IPv6 listen address in brackets', async () => {
    const config = await load({ ...BASE, VALET_LISTEN: '[::]:8443' });
    expect(config.listen).toEqual({ host: '::', port: 8443 });
  });

  it('refuses a TLS certificate without its key', async () => {
    const err = await failure(BASE, { flags: { tlsCert: await writeTemp('tls.pem', 'x') } });
    expect(err.message).toBe(
      '--tls-cert is set without --tls-key (VALET_TLS_KEY_FILE): give both the certificate and its key, or neither to serve plain http behind a TLS proxy',
    );
    const keyOnly = await failure({ ...BASE, VALET_TLS_KEY_FILE: join(dir, 'k') });
    expect(keyOnly.message).toMatch(/^VALET_TLS_KEY_FILE is set without --tls-cert/);
  });

  it('refuses TLS files that cannot be read, and keeps both paths when they can', async () => {
    const cert = await writeTemp('tls.pem', 'x');
    const key = await writeTemp('tls.key', 'x');
    const err = await failure({ ...BASE, VALET_TLS_CERT_FILE: cert, VALET_TLS_KEY_FILE: dir });
    expect(err.message).toMatch(new RegExp(`^VALET_TLS_KEY_FILE ${dir} is not a file: `));
    const config = await load({ ...BASE, VALET_TLS_CERT_FILE: cert, VALET_TLS_KEY_FILE: key });
    expect(config.tls).toEqual({ certFile: cert, keyFile: key });
  });

  it('takes a list of proxy addresses and CIDRs, and refuses anything else', async () => {
    const config = await load({ ...BASE, VALET_TRUST_PROXY: '10.0.0.0/8, 192.168.1.5,fd00::/8' });
    expect(config.trustProxy).toEqual(['10.0.0.0/8', '192.168.1.5', 'fd00::/8']);
    const err = await failure({ ...BASE, VALET_TRUST_PROXY: '10.0.0.0/33' });
    expect(err.message).toMatch(
      /^VALET_TRUST_PROXY has '10\.0\.0\.0\/33', which is not an address or CIDR \(got '10\.0\.0\.0\/33'\): use the number of proxies/,
    );
  });

  it('refuses a Redis URL of another scheme without showing its password', async () => {
    const err = await failure({ ...BASE, VALET_REDIS_URL: 'http://:hunter2pass@cache:6379' });
    expect(err.message).toBe(
      "VALET_REDIS_URL is not redis:// or rediss:// (got 'http://:***@cache:6379'): use a redis:// or rediss:// URL such as redis://127.0.0.1:6379",
    );
    const named = await failure({ ...BASE, VALET_REDIS_URL: 'redis//admin:hunter2pass@cache' });
    expect(named.message).toMatch(
      /^VALET_REDIS_URL is not a URL \(got 'redis\/\/admin:\*\*\*@cache'\)/,
    );
  });

  it('refuses an instance ID that could not name an audit chain file', async () => {
    const err = await failure(BASE, { flags: { instanceId: '../web 1' } });
    expect(err.message).toMatch(
      /^--instance-id has characters other than letters, digits, dots, underscores and hyphens, or is too long \(got '\.\.\/web 1'\): /,
    );
  });
});

describe('loadRemoteConfig Entra settings', () => {
  it('stops when no client ID is set', async () => {
    const err = await failure({ ...BASE, VALET_CLIENT_ID: undefined });
    expect(err.message).toBe(
      "VALET_CLIENT_ID is not set: set it to use the Application (client) ID GUID of the server's web app registration in Entra",
    );
  });

  it('takes the tenant from the authority and adds the known authorities given', async () => {
    const config = await load({
      ...BASE,
      VALET_TENANT_ID: undefined,
      VALET_AUTHORITY: `https://localhost:8443/${TENANT_ID}`,
      VALET_KNOWN_AUTHORITIES: 'login.contoso.com',
    });
    expect(config.tenantId).toBe(TENANT_ID);
    expect(config.authority.knownAuthorities).toEqual(['localhost:8443', 'login.contoso.com']);
  });

  it('refuses an authority that is not a URL with a ConfigError, not a crash', async () => {
    const err = await failure({ ...BASE, VALET_AUTHORITY: 'login.microsoftonline.com/contoso' });
    expect(err.message).toBe(
      "VALET_AUTHORITY is not a URL (got 'login.microsoftonline.com/contoso'): use an https URL such as https://login.microsoftonline.com/<tenant>",
    );
  });

  it('refuses a tenant named by domain in entra mode, where tokens carry the tenant GUID', async () => {
    expect((await load({ ...BASE, VALET_TENANT_ID: 'contoso.com' })).tenantId).toBe('contoso.com');
    const err = await failure({
      ...BASE,
      VALET_TENANT_ID: 'contoso.com',
      VALET_REMOTE_AUTH: 'entra',
    });
    expect(err.message).toBe(
      "VALET_TENANT_ID does not name the tenant by its GUID, which entra mode checks tokens against (got 'contoso.com'): use the Directory (tenant) ID GUID from the tenant's Overview page",
    );
  });

  it('reads the entra-mode lists and names the bad entry of a list', async () => {
    const config = await load({
      ...BASE,
      VALET_API_AUDIENCES: `api://${CLIENT_ID}`,
      VALET_API_SCOPE: `api://${CLIENT_ID}/Valet.Use`,
      VALET_ENTRA_CLIENTS: 'aebc6443-996d-45c2-90f0-388ff96faa56',
      VALET_CIMD_HOSTS: '*,LocalHost',
      VALET_ADMINS: `${TENANT_ID} ${CLIENT_ID}`,
    });
    expect(config).toMatchObject({
      apiAudiences: [`api://${CLIENT_ID}`],
      apiScope: `api://${CLIENT_ID}/Valet.Use`,
      entraClients: ['aebc6443-996d-45c2-90f0-388ff96faa56'],
      cimdHosts: { anyPublic: true, hosts: ['localhost'] },
      admins: [TENANT_ID, CLIENT_ID],
    });
    const err = await failure({ ...BASE, VALET_ADMINS: `${TENANT_ID},alice@contoso.com` });
    expect(err.message).toBe(
      `VALET_ADMINS has 'alice@contoso.com', which is not a GUID (got '${TENANT_ID},alice@contoso.com'): use a comma-separated list of the admins' Entra object ID GUIDs, or give them the app role Valet.Admin`,
    );
  });

  it('refuses a refresh token lifetime shorter than the access token', async () => {
    const err = await failure({ ...BASE, VALET_TOKEN_TTL: '7200', VALET_REFRESH_TTL: '3600' });
    expect(err.message).toMatch(
      /^VALET_REFRESH_TTL is shorter than the access token's 7200 s \(got '3600'\): /,
    );
  });

  it('refuses an approval timeout out of range', async () => {
    const err = await failure({ ...BASE, VALET_APPROVAL_TIMEOUT: '5' });
    expect(err.message).toBe(
      "VALET_APPROVAL_TIMEOUT is below 10 (got '5'): use a whole number of seconds from 10 to 3600",
    );
  });
});

describe('loadRemoteConfig data dir, Graph and the policy file', () => {
  it('keeps its data in VALET_DATA_DIR, reads config.json there and calls Graph at VALET_GRAPH_URL', async () => {
    const dataDir = join(dir, 'team-data');
    await mkdir(dataDir);
    await writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({
        policy: { tools: { send_mail: { enabled: false } } },
        remote: { auth: 'entra' },
      }),
    );
    const config = await load({
      ...BASE,
      VALET_DATA_DIR: dataDir,
      VALET_GRAPH_URL: 'http://127.0.0.1:9999/v1.0/',
    });
    expect(config).toMatchObject({
      dataDir,
      configFile: join(dataDir, 'config.json'),
      graphUrl: 'http://127.0.0.1:9999/v1.0',
      auth: 'entra',
      policy: { tools: { send_mail: { enabled: false } } },
      auditRetention: { maxMegabytes: 1024, maxAgeDays: 0 },
    });
    expect(config.sources).toMatchObject({ dataDir: 'env', graphUrl: 'env' });
  });

  it('calls Graph v1.0 by default, or at remote.graphUrl from config.json', async () => {
    expect((await load(BASE)).graphUrl).toBe('https://graph.microsoft.com/v1.0');
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ remote: { graphUrl: 'https://graph.contoso.example/v1.0' } }),
    );
    expect((await load(BASE)).graphUrl).toBe('https://graph.contoso.example/v1.0');
  });

  it('refuses a plain-http Graph URL off loopback with the desktop’s one line', async () => {
    const err = await failure({ ...BASE, VALET_GRAPH_URL: 'http://graph.contoso.example/v1.0' });
    expect(err.message).toBe(
      "VALET_GRAPH_URL is not https (got 'http://graph.contoso.example/v1.0'): use an https URL such as https://graph.microsoft.com/v1.0 (plain http is allowed on 127.0.0.1 only)",
    );
  });

  it('refuses a data dir it cannot write, naming the folder and the fix', async () => {
    const file = await writeTemp('not-a-dir', '');
    const err = await failure({ ...BASE, VALET_DATA_DIR: join(file, 'data') });
    expect(err.message).toMatch(
      /^VALET_DATA_DIR \S+not-a-dir\/data is not writable \(ENOTDIR\): choose a directory you own, or fix its permissions$/,
    );
  });

  it('refuses a bad policy in the data dir’s config.json, naming the file', async () => {
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ policy: { rateLimits: { requestsPerMinute: -1 } } }),
    );
    const err = await failure(BASE);
    expect(err.setting).toBe('policy');
    expect(err.message).toContain(join(dir, 'config.json'));
  });

  it('takes the audit log limits from VALET_AUDIT_MAX_MB and VALET_AUDIT_MAX_AGE_DAYS, with the desktop’s rules', async () => {
    const config = await load({
      ...BASE,
      VALET_AUDIT_MAX_MB: '50',
      VALET_AUDIT_MAX_AGE_DAYS: '30',
    });
    expect(config.auditRetention).toEqual({ maxMegabytes: 50, maxAgeDays: 30 });
    const err = await failure({ ...BASE, VALET_AUDIT_MAX_MB: '5' });
    expect(err.message).toMatch(/^VALET_AUDIT_MAX_MB is below 20 \(got '5'\): /);
  });
});
