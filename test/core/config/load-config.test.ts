import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../main/core/config/load-config.ts';

const GUID = '11111111-2222-4333-8444-555555555555';
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'valet-config-'));
});

async function failure(env: Record<string, string>): Promise<ConfigError> {
  const err = await loadConfig({ VALET_DATA_DIR: dataDir, ...env }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  const message = (err as ConfigError).message;
  // One line, naming the cause and the fix.
  expect(message).not.toContain('\n');
  return err as ConfigError;
}

describe('loadConfig', () => {
  it('uses Entra defaults when only the client ID is set', async () => {
    const config = await loadConfig({ VALET_DATA_DIR: dataDir, VALET_CLIENT_ID: GUID });
    expect(config.clientId).toBe(GUID);
    expect(config.tenantId).toBe('organizations');
    expect(config.authority.url).toBe('https://login.microsoftonline.com/organizations');
    expect(config.authority.knownAuthorities).toEqual([]);
    expect(config.graphUrl).toBe('https://graph.microsoft.com/v1.0');
    expect(config.broker).toBe('auto');
    expect(config.allowPlaintextCache).toBe(false);
    expect(config.sources.clientId).toBe('env');
    expect(config.sources.port).toBe('default');
  });

  it('trusts a non-Microsoft https authority as a known authority, so no instance discovery goes out', async () => {
    const config = await loadConfig({
      VALET_DATA_DIR: dataDir,
      VALET_AUTHORITY: 'https://localhost:8443/contoso/',
    });
    expect(config.authority).toMatchObject({
      url: 'https://localhost:8443/contoso',
      host: 'localhost:8443',
      tenant: 'contoso',
      knownAuthorities: ['localhost:8443'],
    });
    expect(config.tenantId).toBe('contoso');
  });

  it('keeps sovereign Microsoft clouds on MSAL metadata', async () => {
    const config = await loadConfig({
      VALET_DATA_DIR: dataDir,
      VALET_AUTHORITY: 'https://login.microsoftonline.us/contoso.us',
    });
    expect(config.authority.knownAuthorities).toEqual([]);
  });

  it('lets the environment override the config file', async () => {
    await writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({ clientId: GUID, tenantId: 'contoso.com', port: 5000, broker: 'off' }),
    );
    const config = await loadConfig({ VALET_DATA_DIR: dataDir, VALET_PORT: '0' });
    expect(config).toMatchObject({
      clientId: GUID,
      tenantId: 'contoso.com',
      port: 0,
      broker: 'off',
    });
    expect(config.sources).toMatchObject({ clientId: 'file', port: 'env', broker: 'file' });
  });

  it('rejects a client ID that is not a GUID, naming the setting and the fix', async () => {
    const err = await failure({ VALET_CLIENT_ID: 'my-app' });
    expect(err.setting).toBe('clientId');
    expect(err.message).toMatch(
      /^VALET_CLIENT_ID is not a GUID \(got 'my-app'\): use the Application \(client\) ID GUID/,
    );
  });

  it('rejects an http authority', async () => {
    const err = await failure({ VALET_AUTHORITY: 'http://localhost:8080/contoso' });
    expect(err.message).toMatch(/^VALET_AUTHORITY is not https .*: use an https URL/);
  });

  it('rejects an authority or Graph URL that is no URL at all with the same one line, not a crash', async () => {
    const authority = await failure({ VALET_AUTHORITY: 'notaurl' });
    expect(authority.message).toBe(
      "VALET_AUTHORITY is not a URL (got 'notaurl'): use an https URL such as https://login.microsoftonline.com/<tenant>",
    );
    const graph = await failure({ VALET_GRAPH_URL: 'graph' });
    expect(graph.message).toMatch(
      /^VALET_GRAPH_URL is not a URL \(got 'graph'\): use an https URL/,
    );
  });

  it('rejects an unknown broker mode', async () => {
    const err = await failure({ VALET_BROKER: 'maybe' });
    expect(err.message).toMatch(
      /^VALET_BROKER is not a known broker mode \(got 'maybe'\): use one of auto, on, off$/,
    );
  });

  it('rejects a bad port and a bad plaintext switch', async () => {
    expect((await failure({ VALET_PORT: '70000' })).message).toMatch(/^VALET_PORT is above 65535/);
    expect((await failure({ VALET_PORT: 'eighty' })).message).toMatch(
      /^VALET_PORT is not a number/,
    );
    expect((await failure({ VALET_ALLOW_PLAINTEXT_CACHE: 'yes' })).message).toMatch(
      /^VALET_ALLOW_PLAINTEXT_CACHE is not 1 or 0/,
    );
  });

  it('rejects a tenant that is neither a GUID nor a domain', async () => {
    expect((await failure({ VALET_TENANT_ID: 'not a tenant' })).message).toMatch(
      /^VALET_TENANT_ID is not a tenant GUID/,
    );
  });

  it('allows plain http for the Graph URL on loopback only', async () => {
    const ok = await loadConfig({
      VALET_DATA_DIR: dataDir,
      VALET_GRAPH_URL: 'http://127.0.0.1:9999/v1.0/',
    });
    expect(ok.graphUrl).toBe('http://127.0.0.1:9999/v1.0');
    expect((await failure({ VALET_GRAPH_URL: 'http://graph.example.com/v1.0' })).message).toMatch(
      /^VALET_GRAPH_URL is not https/,
    );
  });

  it('rejects a data dir that is not writable', async () => {
    // root ignores directory permissions; a path under a regular file fails for everyone.
    const blocker = join(dataDir, 'a-file');
    await writeFile(blocker, '');
    const err = (await loadConfig({ VALET_DATA_DIR: join(blocker, 'sub') }).catch(
      (e: unknown) => e,
    )) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(
      /^VALET_DATA_DIR .*a-file\/sub is not writable \((ENOTDIR|EEXIST)\): choose a directory you own/,
    );
  });

  it('names the config file and the bad key for a broken config file', async () => {
    await writeFile(join(dataDir, 'config.json'), '{ "clientId": ');
    expect((await failure({})).message).toMatch(
      /config\.json is not valid JSON .*: fix or delete the file/,
    );
    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ clientID: GUID }));
    expect((await failure({})).message).toMatch(
      /config\.json has unknown setting clientID: known settings are clientId, /,
    );
    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ broker: 'sometimes' }));
    expect((await failure({})).message).toMatch(
      /^broker in .*config\.json is not a known broker mode \(got 'sometimes'\)/,
    );
  });

  it('validates the policy section, naming the setting', async () => {
    await writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({ policy: { tools: { send_mial: { enabled: false } } } }),
    );
    expect((await failure({})).message).toMatch(
      /^policy\.tools has unknown tool send_mial \(the tools are get_user_details, .*\) in .*config\.json: fix the policy section/,
    );
    await writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({ policy: { tools: { send_mail: { requireRole: 7 } } } }),
    );
    expect((await failure({})).message).toMatch(/^policy\.tools\.send_mail\.requireRole /);
    await writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({ policy: { rateLimits: { burst: 0 } } }),
    );
    expect((await failure({})).message).toMatch(/^policy\.rateLimits\.burst /);
    await writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({
        policy: {
          approvalTimeoutSeconds: 30,
          tools: { send_mail: { requireRole: 'Valet.Mail.Send' } },
        },
      }),
    );
    const config = await loadConfig({ VALET_DATA_DIR: dataDir });
    expect(config.policy).toMatchObject({
      approvalTimeoutSeconds: 30,
      tools: { send_mail: { requireRole: 'Valet.Mail.Send' } },
      rateLimits: { requestsPerMinute: 300 },
    });
  });

  it('keeps 1024 MB of audit log and records of any age unless told otherwise', async () => {
    const config = await loadConfig({ VALET_DATA_DIR: dataDir });
    expect(config.auditRetention).toEqual({ maxMegabytes: 1024, maxAgeDays: 0 });
    expect(config.sources).toMatchObject({
      auditMaxMegabytes: 'default',
      auditMaxAgeDays: 'default',
    });
  });

  it('reads the audit retention from config.json, and the environment wins', async () => {
    await writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({ auditMaxMegabytes: 200, auditMaxAgeDays: 90 }),
    );
    expect((await loadConfig({ VALET_DATA_DIR: dataDir })).auditRetention).toEqual({
      maxMegabytes: 200,
      maxAgeDays: 90,
    });
    const config = await loadConfig({
      VALET_DATA_DIR: dataDir,
      VALET_AUDIT_MAX_MB: '0',
      VALET_AUDIT_MAX_AGE_DAYS: '365',
    });
    expect(config.auditRetention).toEqual({ maxMegabytes: 0, maxAgeDays: 365 });
    expect(config.sources).toMatchObject({ auditMaxMegabytes: 'env', auditMaxAgeDays: 'env' });
  });

  it('rejects a bad audit retention with one line naming the setting and the fix', async () => {
    expect((await failure({ VALET_AUDIT_MAX_MB: '5' })).message).toMatch(
      /^VALET_AUDIT_MAX_MB is below 20 \(got '5'\): use a whole number of megabytes, at least 20, or 0 to keep the whole log$/,
    );
    expect((await failure({ VALET_AUDIT_MAX_AGE_DAYS: 'a week' })).message).toMatch(
      /^VALET_AUDIT_MAX_AGE_DAYS is not a number \(got 'a week'\): use a whole number of days/,
    );
    expect((await failure({ VALET_AUDIT_MAX_AGE_DAYS: '-1' })).message).toMatch(
      /^VALET_AUDIT_MAX_AGE_DAYS is below 0/,
    );
    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ auditMaxMegabytes: 2.5 }));
    expect((await failure({})).message).toMatch(
      /^auditMaxMegabytes in .*config\.json is not a whole number \(got '2\.5'\)/,
    );
  });
});
