import { isIP } from 'node:net';
import { z } from 'zod';
import { SETTINGS, settingSchemas } from '../config/config-schema.ts';

/** How MCP clients authenticate: our own authorization server, Entra tokens, or both paths. */
export const REMOTE_AUTH_MODES = ['valet', 'entra', 'both'] as const;
/** One of REMOTE_AUTH_MODES. */
export type RemoteAuthMode = (typeof REMOTE_AUTH_MODES)[number];

/** Where `serve --remote` listens when neither --listen nor VALET_LISTEN is given. */
export const DEFAULT_LISTEN = '127.0.0.1:8080';
/** The key prefix of the shared store in Redis. */
export const DEFAULT_REDIS_PREFIX = 'mv:';
/** The scope name an Entra token for our API must carry (or the app role, for daemons). */
export const API_SCOPE_NAME = 'Valet.Use';
/** The only value VALET_CLIENT_ASSERTION takes. */
export const MANAGED_IDENTITY = 'managed-identity';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
/** Hosts on which a plain-http public URL is allowed: nobody else can reach them. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A remote setting: its environment variable, its key in config.json's `remote` section, its
 * command-line flag if it has one, the fix to suggest, and whether its value is a secret that
 * no message may quote.
 */
export interface RemoteSettingInfo {
  env: string;
  key: string;
  flag?: string;
  fix: string;
  secret?: boolean;
  /** Read from the environment only: config.json cannot say where config.json is. */
  envOnly?: boolean;
}

const PEM_FIX = 'check the path and that this user can read the file';
const LIST = 'a comma-separated list';

/** Every remote setting, in the order they are validated (the first bad one is reported). */
export const REMOTE_SETTINGS = {
  dataDir: { env: 'VALET_DATA_DIR', key: 'dataDir', fix: SETTINGS.dataDir.fix, envOnly: true },
  publicUrl: {
    env: 'VALET_PUBLIC_URL',
    key: 'publicUrl',
    flag: '--public-url',
    fix: 'use the https URL your users reach, such as https://valet.contoso.com (plain http is allowed on localhost, 127.0.0.1 and [::1] only)',
  },
  listen: {
    env: 'VALET_LISTEN',
    key: 'listen',
    flag: '--listen',
    fix: 'use HOST:PORT such as 127.0.0.1:8080, 0.0.0.0:8080 or [::]:8080 (port 0 picks a free port)',
  },
  auth: {
    env: 'VALET_REMOTE_AUTH',
    key: 'auth',
    flag: '--auth',
    fix: `use one of ${REMOTE_AUTH_MODES.join(', ')}`,
  },
  redisUrl: {
    env: 'VALET_REDIS_URL',
    key: 'redisUrl',
    flag: '--redis',
    fix: 'use a redis:// or rediss:// URL such as redis://127.0.0.1:6379',
  },
  redisPrefix: {
    env: 'VALET_REDIS_PREFIX',
    key: 'redisPrefix',
    fix: 'use 1 to 32 letters, digits, colons, dots, underscores or hyphens, such as mv:',
  },
  instanceId: {
    env: 'VALET_INSTANCE_ID',
    key: 'instanceId',
    flag: '--instance-id',
    fix: 'use 1 to 63 letters, digits, dots, underscores or hyphens, starting with a letter or digit (it names this instance and its audit chain)',
  },
  tlsCert: {
    env: 'VALET_TLS_CERT_FILE',
    key: 'tlsCertFile',
    flag: '--tls-cert',
    fix: `give the PEM certificate file of the server's https listener; ${PEM_FIX}`,
  },
  tlsKey: {
    env: 'VALET_TLS_KEY_FILE',
    key: 'tlsKeyFile',
    flag: '--tls-key',
    fix: `give the PEM private key file of the server's https listener; ${PEM_FIX}`,
  },
  trustProxy: {
    env: 'VALET_TRUST_PROXY',
    key: 'trustProxy',
    flag: '--trust-proxy',
    fix: `use the number of proxies in front of the server (such as 1), or ${LIST} of their addresses or CIDRs (such as 10.0.0.0/8)`,
  },
  clientId: {
    env: 'VALET_CLIENT_ID',
    key: 'clientId',
    fix: "use the Application (client) ID GUID of the server's web app registration in Entra",
  },
  tenantId: { env: 'VALET_TENANT_ID', key: 'tenantId', fix: SETTINGS.tenantId.fix },
  authority: { env: 'VALET_AUTHORITY', key: 'authority', fix: SETTINGS.authority.fix },
  knownAuthorities: {
    env: 'VALET_KNOWN_AUTHORITIES',
    key: 'knownAuthorities',
    fix: `use ${LIST} of authority hosts such as login.contoso.com or localhost:8443`,
  },
  authorityMetadataFile: {
    env: 'VALET_AUTHORITY_METADATA_FILE',
    key: 'authorityMetadataFile',
    fix: "give a file holding the authority's OpenID configuration JSON, or unset it to fetch it at start",
  },
  clientCertFile: {
    env: 'VALET_CLIENT_CERT_FILE',
    key: 'clientCertFile',
    fix: `give one PEM file holding the app's certificate and its private key; ${PEM_FIX}`,
  },
  clientAssertionFile: {
    env: 'VALET_CLIENT_ASSERTION_FILE',
    key: 'clientAssertionFile',
    fix: `give the file the platform writes the federated token to; ${PEM_FIX}`,
  },
  clientAssertion: {
    env: 'VALET_CLIENT_ASSERTION',
    key: 'clientAssertion',
    fix: `use ${MANAGED_IDENTITY}; to use a federated token, put it in a file and set VALET_CLIENT_ASSERTION_FILE`,
    secret: true,
  },
  miClientId: {
    env: 'VALET_MI_CLIENT_ID',
    key: 'miClientId',
    fix: 'use the client ID GUID of the user-assigned managed identity, or unset it to use the system-assigned one',
  },
  clientSecret: {
    env: 'VALET_CLIENT_SECRET',
    key: 'clientSecret',
    fix: "use the secret's value from the app registration's Certificates & secrets page",
    secret: true,
  },
  cacheKey: {
    env: 'VALET_CACHE_KEY',
    key: 'cacheKey',
    fix: 'use base64 of 32 random bytes, such as the output of: openssl rand -base64 32',
    secret: true,
  },
  cacheKeyFile: {
    env: 'VALET_CACHE_KEY_FILE',
    key: 'cacheKeyFile',
    fix: `give a file holding base64 of 32 random bytes (openssl rand -base64 32); ${PEM_FIX}`,
  },
  cacheKeyPrevious: {
    env: 'VALET_CACHE_KEY_PREVIOUS',
    key: 'cacheKeyPrevious',
    fix: 'use the base64 cache key in use before the current one, or unset it once no instance uses it',
    secret: true,
  },
  cacheKeyPreviousFile: {
    env: 'VALET_CACHE_KEY_PREVIOUS_FILE',
    key: 'cacheKeyPreviousFile',
    fix: `give a file holding the base64 cache key in use before the current one; ${PEM_FIX}`,
  },
  apiAudiences: {
    env: 'VALET_API_AUDIENCES',
    key: 'apiAudiences',
    fix: `use ${LIST} of the API's client ID GUID and identifier URIs, such as api://<client id>`,
  },
  apiScope: {
    env: 'VALET_API_SCOPE',
    key: 'apiScope',
    fix: `use the full scope of the API, such as https://valet.contoso.com/mcp/${API_SCOPE_NAME} or api://<client id>/${API_SCOPE_NAME}`,
  },
  entraClients: {
    env: 'VALET_ENTRA_CLIENTS',
    key: 'entraClients',
    fix: `use ${LIST} of client app ID GUIDs allowed to call in entra mode, such as VS Code's aebc6443-996d-45c2-90f0-388ff96faa56`,
  },
  acceptV1Tokens: {
    env: 'VALET_ACCEPT_V1_TOKENS',
    key: 'acceptV1Tokens',
    fix: 'use true to also accept Entra v1 access tokens, or false',
  },
  cimdHosts: {
    env: 'VALET_CIMD_HOSTS',
    key: 'cimdHosts',
    fix: `use * for any host on a public address, and/or ${LIST} of host names allowed even on a private address, such as *,localhost`,
  },
  dcr: {
    env: 'VALET_DCR',
    key: 'dcr',
    fix: 'use on to let MCP clients register themselves (dynamic client registration), or off',
  },
  cimd: {
    env: 'VALET_CIMD',
    key: 'cimd',
    fix: 'use on to accept client ID metadata documents (https client IDs), or off',
  },
  tokenTtl: {
    env: 'VALET_TOKEN_TTL',
    key: 'tokenTtl',
    fix: 'use a whole number of seconds from 60 to 86400',
  },
  refreshTtl: {
    env: 'VALET_REFRESH_TTL',
    key: 'refreshTtl',
    fix: 'use a whole number of seconds from 3600 to 31536000 (a year), no shorter than the access token',
  },
  consentTtlDays: {
    env: 'VALET_CONSENT_TTL_DAYS',
    key: 'consentTtlDays',
    fix: 'use a whole number of days from 1 to 3650',
  },
  approvalTimeout: {
    env: 'VALET_APPROVAL_TIMEOUT',
    key: 'approvalTimeout',
    fix: 'use a whole number of seconds from 10 to 3600',
  },
  graphUrl: { env: 'VALET_GRAPH_URL', key: 'graphUrl', fix: SETTINGS.graphUrl.fix },
  auditMaxMegabytes: {
    env: 'VALET_AUDIT_MAX_MB',
    key: 'auditMaxMegabytes',
    fix: SETTINGS.auditMaxMegabytes.fix,
  },
  auditMaxAgeDays: {
    env: 'VALET_AUDIT_MAX_AGE_DAYS',
    key: 'auditMaxAgeDays',
    fix: SETTINGS.auditMaxAgeDays.fix,
  },
  auditDir: {
    env: 'VALET_AUDIT_DIR',
    key: 'auditDir',
    fix: 'choose a directory this user can write',
  },
  admins: {
    env: 'VALET_ADMINS',
    key: 'admins',
    fix: `use ${LIST} of the admins' Entra object ID GUIDs, or give them the app role Valet.Admin`,
  },
} as const satisfies Record<string, RemoteSettingInfo>;

/** The name of a remote setting. */
export type RemoteSettingName = keyof typeof REMOTE_SETTINGS;

/** Splits a comma- or space-separated environment value; a config file may give a JSON array. */
function listOf<T extends z.ZodType>(item: T, what: string) {
  return z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(/[,\s]+/)
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(item, { error: `is not ${LIST}` }).min(1, `is not ${LIST} of ${what}`),
  );
}

function seconds(min: number, max: number) {
  return z.coerce
    .number({ error: 'is not a number' })
    .int('is not a whole number')
    .min(min, `is below ${min}`)
    .max(max, `is above ${max}`);
}

function toggle(on: string, off: string) {
  return z.preprocess(
    (v) => (typeof v === 'boolean' ? String(v) : typeof v === 'string' ? v.trim() : v),
    z
      .enum([on, off, 'true', 'false', '1', '0'], { error: `is not ${on} or ${off}` })
      .transform((v) => v === on || v === 'true' || v === '1'),
  );
}

const path = z.string().trim().min(1, 'is empty');
/** A string that parses as a URL; later checks may call `new URL` since this one aborts. */
const url = z
  .string()
  .trim()
  .refine((v) => URL.canParse(v), { message: 'is not a URL', abort: true });
const guid = z.string().trim().regex(GUID, 'is not a GUID');

/** Parses HOST:PORT, where an IPv6 host is in brackets. */
function parseListen(v: string): { host: string; port: number } | undefined {
  const m = /^(\[([0-9a-f:.]+)\]|[^:[\]]+):(\d{1,5})$/i.exec(v);
  if (!m) return undefined;
  const host = m[2] ?? m[1] ?? '';
  const ok = m[2] !== undefined ? isIP(host) === 6 : isIP(host) === 4 || HOST_NAME.test(host);
  const port = Number(m[3]);
  return ok && port <= 65535 ? { host, port } : undefined;
}

function isCidr(v: string): boolean {
  const [address = '', bits, extra] = v.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** Validators for each setting's raw value (a string from the environment, or JSON). */
export const remoteSettingSchemas = {
  dataDir: settingSchemas.dataDir,
  publicUrl: url
    .refine((v) => !/[?#]/.test(v), 'has a query or a fragment')
    .transform((v) => new URL(v))
    .refine((u) => u.protocol === 'https:' || u.protocol === 'http:', 'is not https')
    .refine((u) => u.protocol === 'https:' || LOOPBACK_HOSTS.has(u.hostname), 'is not https')
    .refine((u) => !u.username && !u.password, 'carries a user name or password')
    .transform((u) => `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`),
  listen: z
    .string()
    .trim()
    .transform((v, ctx) => {
      const parsed = parseListen(v);
      if (!parsed) ctx.addIssue({ code: 'custom', message: 'is not HOST:PORT' });
      return parsed ?? { host: '', port: 0 };
    }),
  auth: z.enum(REMOTE_AUTH_MODES, { error: 'is not a known mode' }),
  redisUrl: url
    .refine(
      (v) => ['redis:', 'rediss:'].includes(new URL(v).protocol),
      'is not redis:// or rediss://',
    )
    .refine((v) => new URL(v).hostname !== '', 'has no host'),
  redisPrefix: z.string().regex(/^[A-Za-z0-9:._-]{1,32}$/, 'is not a valid key prefix'),
  instanceId: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
      'has characters other than letters, digits, dots, underscores and hyphens, or is too long',
    ),
  tlsCert: path,
  tlsKey: path,
  trustProxy: z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
    z.union(
      [
        z.number().int().min(0).max(100),
        listOf(z.string().refine(isCidr, 'is not an address or CIDR'), 'addresses or CIDRs'),
      ],
      { error: 'is not a number of proxies or a list of addresses or CIDRs' },
    ),
  ),
  clientId: settingSchemas.clientId,
  tenantId: settingSchemas.tenantId,
  authority: url
    .refine(
      (v) => new URL(v).protocol === 'https:',
      'is not https (MSAL only talks to https authorities)',
    )
    .refine((v) => new URL(v).pathname.replace(/\/+$/, '').length > 1, 'has no tenant in its path'),
  knownAuthorities: listOf(
    z.string().regex(/^[a-z0-9.-]+(:\d{1,5})?$/i, 'is not a host name'),
    'host names',
  ),
  authorityMetadataFile: path,
  clientCertFile: path,
  clientAssertionFile: path,
  clientAssertion: z.literal(MANAGED_IDENTITY, { error: `is not ${MANAGED_IDENTITY}` }),
  miClientId: guid,
  clientSecret: z.string().min(1, 'is empty'),
  cacheKey: z.string().min(1, 'is empty'),
  cacheKeyFile: path,
  cacheKeyPrevious: z.string().min(1, 'is empty'),
  cacheKeyPreviousFile: path,
  apiAudiences: listOf(
    z.string().refine((v) => GUID.test(v) || URL.canParse(v), 'is not a GUID or a URI'),
    'GUIDs or URIs',
  ),
  apiScope: z
    .string()
    .trim()
    .refine(
      (v) => URL.canParse(v) && /\/[A-Za-z0-9._-]+$/.test(new URL(v).pathname),
      'is not a full scope (the API URI, a slash and the scope name)',
    ),
  entraClients: listOf(z.string().regex(GUID, 'is not a GUID'), 'GUIDs'),
  acceptV1Tokens: toggle('true', 'false'),
  cimdHosts: listOf(
    z
      .string()
      .refine(
        (v) =>
          v === '*' ||
          /^[a-z0-9.-]+(:\d{1,5})?$/i.test(v) ||
          /^\[[0-9a-f:.]+\](:\d{1,5})?$/i.test(v),
      ),
    'host names or *',
  ),
  dcr: toggle('on', 'off'),
  cimd: toggle('on', 'off'),
  tokenTtl: seconds(60, 86_400),
  refreshTtl: seconds(3600, 31_536_000),
  consentTtlDays: seconds(1, 3650),
  approvalTimeout: seconds(10, 3600),
  graphUrl: settingSchemas.graphUrl,
  auditMaxMegabytes: settingSchemas.auditMaxMegabytes,
  auditMaxAgeDays: settingSchemas.auditMaxAgeDays,
  auditDir: path,
  admins: listOf(z.string().regex(GUID, 'is not a GUID'), 'GUIDs'),
} satisfies Record<RemoteSettingName, z.ZodType>;

/** The validated value of a setting. */
export type RemoteSettingValue<N extends RemoteSettingName> = z.output<
  (typeof remoteSettingSchemas)[N]
>;
