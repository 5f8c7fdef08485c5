import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultAuthority, resolveAuthority, type ResolvedAuthority } from '../config/authority.ts';
import { DEFAULT_AUDIT_MAX_MB, DEFAULT_GRAPH_URL } from '../config/config-schema.ts';
import { checkWritableDir, defaultDataDir } from '../config/data-dir.ts';
import { CONFIG_FILE_NAME, ConfigError } from '../config/load-config.ts';
import { describePolicyError, policySchema, type Policy } from '../policy/policy-schema.ts';
import { readFileIfExists } from '../util/atomic-file.ts';
import { readCacheKeys, type CacheKeys } from './cache-keys.ts';
import { readClientCredential, type ClientCredential } from './client-credential.ts';
import {
  API_SCOPE_NAME,
  DEFAULT_LISTEN,
  DEFAULT_REDIS_PREFIX,
  REMOTE_SETTINGS,
  type RemoteAuthMode,
  type RemoteSettingName,
} from './remote-settings.ts';
import {
  readRemoteSection,
  SettingReader,
  type RawSetting,
  type RemoteFlags,
  type RemoteSettingSource,
} from './setting-reader.ts';

export type { RemoteFlags, RemoteSettingSource } from './setting-reader.ts';

/** What `serve --remote` passes besides the environment. */
export interface RemoteConfigOptions {
  /** Command-line flags; they override the environment. */
  flags?: RemoteFlags;
  /** config.json, whose `remote` section the environment overrides; the data dir's by default. */
  configFile?: string;
  /** For the default instance ID (`<hostname>-<pid>`). */
  hostname?: string;
  pid?: number;
}

/** The validated configuration of a remote server. */
export interface RemoteConfig {
  /** VALET_DATA_DIR, or the OS's per-user folder; checked writable. */
  dataDir: string;
  /** config.json: its `remote` section and the policy, which is re-read when it changes. */
  configFile: string;
  /** Microsoft Graph's base URL, without a trailing slash. */
  graphUrl: string;
  /** The policy in config.json at start. */
  policy: Policy;
  /** Canonical: no trailing slash, no query or fragment; https unless on loopback. */
  publicUrl: string;
  /** `<publicUrl>/mcp`: the MCP endpoint and the resource clients ask tokens for. */
  mcpUrl: string;
  listen: { host: string; port: number };
  auth: RemoteAuthMode;
  /** The shared store; undefined keeps state in this process. May hold a password. */
  redisUrl: string | undefined;
  redisPrefix: string;
  /** Names this instance and its audit chain. */
  instanceId: string;
  tls: { certFile: string; keyFile: string } | undefined;
  /** For X-Forwarded-For: a hop count (0 trusts none) or the proxies' addresses and CIDRs. */
  trustProxy: number | string[];
  clientId: string;
  tenantId: string;
  /** With VALET_KNOWN_AUTHORITIES added to its known authorities. */
  authority: ResolvedAuthority;
  /** The authority's OpenID configuration JSON, when given, so that none is fetched at start. */
  authorityMetadata: string | undefined;
  credential: ClientCredential;
  /** Seal the token cache; always set with Redis. */
  cacheKeys: CacheKeys | undefined;
  /** entra mode: accepted `aud` values, the scope clients request, allowed `azp`, v1 tokens. */
  apiAudiences: string[];
  apiScope: string;
  entraClients: string[];
  acceptV1Tokens: boolean;
  /** valet mode: which hosts' client ID metadata documents may be fetched. */
  cimdHosts: { anyPublic: boolean; hosts: string[] };
  dcr: boolean;
  cimd: boolean;
  tokenTtlSeconds: number;
  refreshTtlSeconds: number;
  consentTtlDays: number;
  approvalTimeoutSeconds: number;
  /** The folder that holds this instance's audit chain itself; undefined: `<dataDir>/audit`. */
  auditDir: string | undefined;
  /** How much audit log to keep: older files are pruned past either limit (0: no limit). */
  auditRetention: { maxMegabytes: number; maxAgeDays: number };
  /** Entra object IDs of admins (besides holders of the app role Valet.Admin). */
  admins: string[];
  /** Lines for the caller to print at start (e.g. that a client secret is discouraged). */
  warnings: string[];
  sources: Record<RemoteSettingName, RemoteSettingSource>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads and validates the remote server's configuration: flags override the environment,
 * which overrides config.json's `remote` section, which overrides the defaults. Throws a
 * one-line ConfigError on the first bad or missing value; no message carries a secret.
 */
export async function loadRemoteConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: RemoteConfigOptions = {},
): Promise<RemoteConfig> {
  const dataDir = await readDataDir(new SettingReader(env, {}, {}, undefined), env);
  const configFile = options.configFile ?? join(dataDir, CONFIG_FILE_NAME);
  const file = await readRemoteSection(configFile);
  const reader = new SettingReader(env, options.flags ?? {}, file, configFile);
  reader.sources.dataDir = env.VALET_DATA_DIR?.trim() ? 'env' : 'default';
  const warnings: string[] = [];
  const required = <N extends 'publicUrl' | 'clientId'>(name: N, fix: string) => {
    const value = reader.get(name);
    if (value === undefined) throw missing(name, fix);
    return value;
  };

  const publicUrl = required(
    'publicUrl',
    'pass --public-url or set VALET_PUBLIC_URL to the https URL your users reach, such as https://valet.contoso.com',
  );
  const mcpUrl = `${publicUrl}/mcp`;
  const listen = reader.get('listen') ?? parseDefaultListen();
  const auth = reader.get('auth') ?? 'valet';
  const redisUrl = reader.get('redisUrl');
  const redisPrefix = reader.get('redisPrefix') ?? DEFAULT_REDIS_PREFIX;
  const instanceId =
    reader.get('instanceId') ??
    defaultInstanceId(options.hostname ?? osHostname(), options.pid ?? process.pid);
  const tls = await readTls(reader);
  const trustProxy = reader.get('trustProxy') ?? 0;

  const clientId = required('clientId', `set it to ${lowerFirst(REMOTE_SETTINGS.clientId.fix)}`);
  const { authority, tenantId } = readAuthority(reader, auth);
  const authorityMetadata = await readAuthorityMetadata(reader);
  const credential = await readClientCredential(reader, env, warnings);

  const cacheKeys = await readCacheKeys(reader);
  if (redisUrl !== undefined && !cacheKeys) {
    const redis = reader.raw('redisUrl')?.where ?? REMOTE_SETTINGS.redisUrl.env;
    throw new ConfigError(
      'cacheKey',
      `VALET_CACHE_KEY is not set, but ${redis} is: the token cache shared through Redis is encrypted with it; set VALET_CACHE_KEY or VALET_CACHE_KEY_FILE to base64 of 32 random bytes (openssl rand -base64 32), the same on every instance`,
    );
  }

  const cimdHosts = reader.get('cimdHosts') ?? ['*'];
  const tokenTtlSeconds = reader.get('tokenTtl') ?? 3600;
  const refreshTtlSeconds = reader.get('refreshTtl') ?? 2_592_000;
  if (refreshTtlSeconds < tokenTtlSeconds) {
    const raw = reader.raw('refreshTtl') as RawSetting;
    throw reader.error(
      'refreshTtl',
      raw,
      `is shorter than the access token's ${tokenTtlSeconds} s`,
    );
  }
  const graphUrl = (reader.get('graphUrl') ?? DEFAULT_GRAPH_URL).replace(/\/+$/, '');
  const auditRetention = {
    maxMegabytes: reader.get('auditMaxMegabytes') ?? DEFAULT_AUDIT_MAX_MB,
    maxAgeDays: reader.get('auditMaxAgeDays') ?? 0,
  };
  return {
    dataDir,
    configFile,
    graphUrl,
    policy: await readPolicy(configFile),
    publicUrl,
    mcpUrl,
    listen,
    auth,
    redisUrl,
    redisPrefix,
    instanceId,
    tls,
    trustProxy,
    clientId,
    tenantId,
    authority,
    authorityMetadata,
    credential,
    cacheKeys,
    apiAudiences: reader.get('apiAudiences') ?? [clientId, `api://${clientId}`, mcpUrl],
    apiScope: reader.get('apiScope') ?? `${mcpUrl}/${API_SCOPE_NAME}`,
    entraClients: reader.get('entraClients') ?? [],
    acceptV1Tokens: reader.get('acceptV1Tokens') ?? false,
    cimdHosts: {
      anyPublic: cimdHosts.includes('*'),
      hosts: cimdHosts.filter((h) => h !== '*').map((h) => h.toLowerCase()),
    },
    dcr: reader.get('dcr') ?? true,
    cimd: reader.get('cimd') ?? true,
    tokenTtlSeconds,
    refreshTtlSeconds,
    consentTtlDays: reader.get('consentTtlDays') ?? 90,
    approvalTimeoutSeconds: reader.get('approvalTimeout') ?? 300,
    auditDir: await readAuditDir(reader),
    auditRetention,
    admins: reader.get('admins') ?? [],
    warnings,
    sources: reader.sources,
  };
}

/**
 * The data dir, as the desktop finds it: VALET_DATA_DIR, or the OS's per-user folder; made if
 * missing and proved writable, with the desktop's one-line error when it is not.
 */
async function readDataDir(reader: SettingReader, env: NodeJS.ProcessEnv): Promise<string> {
  const raw = reader.raw('dataDir');
  const dir = resolve(raw ? reader.parse('dataDir', raw) : defaultDataDir(process.platform, env));
  const problem = await checkWritableDir(dir);
  if (problem)
    throw new ConfigError(
      'dataDir',
      `${raw ? raw.where : 'the data directory'} ${dir} is not writable (${problem}): ${REMOTE_SETTINGS.dataDir.fix}${raw ? '' : ', or set VALET_DATA_DIR'}`,
    );
  return dir;
}

/** The policy section of config.json, checked as the desktop checks it. */
async function readPolicy(configFile: string): Promise<Policy> {
  const text = await readFileIfExists(configFile);
  const json = text?.trim() ? (JSON.parse(text) as { policy?: unknown } | null) : undefined;
  const policy = policySchema.safeParse(json?.policy ?? {});
  if (!policy.success)
    throw new ConfigError(
      'policy',
      `${describePolicyError(policy.error)} in ${configFile}: fix the policy section (see the README, "Policy")`,
    );
  return policy.data;
}

function missing(name: RemoteSettingName, fix: string): ConfigError {
  return new ConfigError(name, `${REMOTE_SETTINGS[name].env} is not set: ${fix}`);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function parseDefaultListen(): { host: string; port: number } {
  const [host = '127.0.0.1', port = '8080'] = DEFAULT_LISTEN.split(':');
  return { host, port: Number(port) };
}

/** `<hostname>-<pid>`, with any character an instance ID may not hold replaced by a hyphen. */
export function defaultInstanceId(hostname: string, pid: number): string {
  const host = hostname.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  const suffix = `-${pid}`;
  return `${(host || 'valet').slice(0, 63 - suffix.length)}${suffix}`;
}

async function readTls(reader: SettingReader): Promise<RemoteConfig['tls']> {
  const cert = reader.raw('tlsCert');
  const key = reader.raw('tlsKey');
  reader.sources.tlsCert = cert ? cert.source : 'default';
  reader.sources.tlsKey = key ? key.source : 'default';
  if (!cert && !key) return undefined;
  if (!cert || !key) {
    const given = (cert ?? key) as RawSetting;
    const other = cert ? REMOTE_SETTINGS.tlsKey : REMOTE_SETTINGS.tlsCert;
    throw new ConfigError(
      cert ? 'tlsKey' : 'tlsCert',
      `${given.where} is set without ${other.flag} (${other.env}): give both the certificate and its key, or neither to serve plain http behind a TLS proxy`,
    );
  }
  return {
    certFile: await reader.readableFile('tlsCert', cert, reader.parse('tlsCert', cert)),
    keyFile: await reader.readableFile('tlsKey', key, reader.parse('tlsKey', key)),
  };
}

function readAuthority(
  reader: SettingReader,
  auth: RemoteAuthMode,
): { authority: ResolvedAuthority; tenantId: string } {
  const tenant = reader.get('tenantId');
  const authorityUrl = reader.get('authority');
  if (tenant === undefined && authorityUrl === undefined)
    throw missing(
      'tenantId',
      "set it to the Directory (tenant) ID GUID of the app's tenant, or set VALET_AUTHORITY to the full authority URL",
    );
  const resolved = resolveAuthority(authorityUrl ?? defaultAuthority(tenant as string));
  const tenantId = tenant ?? resolved.tenant;
  if (auth !== 'valet' && !GUID.test(tenantId)) {
    const tenantRaw = reader.raw('tenantId');
    const raw = (tenantRaw ?? reader.raw('authority')) as RawSetting;
    throw reader.error(
      tenantRaw ? 'tenantId' : 'authority',
      raw,
      `does not name the tenant by its GUID, which entra mode checks tokens against`,
      "use the Directory (tenant) ID GUID from the tenant's Overview page",
    );
  }
  const extra = reader.get('knownAuthorities') ?? [];
  const knownAuthorities = [
    ...new Set([...resolved.knownAuthorities, ...extra.map((h) => h.toLowerCase())]),
  ];
  return { authority: { ...resolved, knownAuthorities }, tenantId };
}

async function readAuthorityMetadata(reader: SettingReader): Promise<string | undefined> {
  const raw = reader.raw('authorityMetadataFile');
  reader.sources.authorityMetadataFile = raw ? raw.source : 'default';
  if (!raw) return undefined;
  const file = await reader.readableFile(
    'authorityMetadataFile',
    raw,
    reader.parse('authorityMetadataFile', raw),
  );
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const doc = json as Record<string, unknown> | undefined;
  if (
    typeof doc?.issuer !== 'string' ||
    typeof doc.authorization_endpoint !== 'string' ||
    typeof doc.token_endpoint !== 'string'
  )
    throw new ConfigError(
      'authorityMetadataFile',
      `${raw.where} ${file} is not an OpenID configuration (JSON with issuer, authorization_endpoint and token_endpoint): ${REMOTE_SETTINGS.authorityMetadataFile.fix}`,
    );
  return text;
}

async function readAuditDir(reader: SettingReader): Promise<string | undefined> {
  const raw = reader.raw('auditDir');
  reader.sources.auditDir = raw ? raw.source : 'default';
  if (!raw) return undefined;
  const dir = reader.resolvePath(raw, reader.parse('auditDir', raw));
  const problem = await checkWritableDir(dir);
  if (problem)
    throw new ConfigError(
      'auditDir',
      `${raw.where} ${dir} is not writable (${problem}): ${REMOTE_SETTINGS.auditDir.fix}`,
    );
  return resolve(dir);
}
