import { z } from 'zod';

/** Broker modes: `auto` uses the OS broker where one can exist (Windows, macOS), `on` tries it everywhere, `off` never loads it. */
export const BROKER_MODES = ['auto', 'on', 'off'] as const;
/** One of BROKER_MODES. */
export type BrokerMode = (typeof BROKER_MODES)[number];

/** The endpoint port used when VALET_PORT is not set. */
export const DEFAULT_PORT = 47652;
/** Graph's public v1.0 base URL. */
export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com/v1.0';
/** The tenant used when none is configured: any work or school account. */
export const DEFAULT_TENANT = 'organizations';
/** How much audit log is kept when no limit is set: old files are pruned past this. */
export const DEFAULT_AUDIT_MAX_MB = 1024;
/** The smallest size limit: the active audit file and one rotated file (10 MB each). */
const MIN_AUDIT_MAX_MB = 20;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A setting: how it is named in the environment and in the config file, and the fix to suggest. */
export interface SettingInfo {
  env: string;
  key: string;
  fix: string;
}

/** Every setting, in the order they are validated (the first bad one is reported). */
export const SETTINGS = {
  clientId: {
    env: 'VALET_CLIENT_ID',
    key: 'clientId',
    fix: 'use the Application (client) ID GUID from your Entra app registration (see the README, "Register the app")',
  },
  tenantId: {
    env: 'VALET_TENANT_ID',
    key: 'tenantId',
    fix: 'use the Directory (tenant) ID GUID, a verified domain such as contoso.com, or organizations',
  },
  authority: {
    env: 'VALET_AUTHORITY',
    key: 'authority',
    fix: 'use an https URL such as https://login.microsoftonline.com/<tenant>',
  },
  graphUrl: {
    env: 'VALET_GRAPH_URL',
    key: 'graphUrl',
    fix: 'use an https URL such as https://graph.microsoft.com/v1.0 (plain http is allowed on 127.0.0.1 only)',
  },
  port: {
    env: 'VALET_PORT',
    key: 'port',
    fix: 'use a whole number from 0 to 65535 (0 picks any free port)',
  },
  broker: { env: 'VALET_BROKER', key: 'broker', fix: `use one of ${BROKER_MODES.join(', ')}` },
  allowPlaintextCache: {
    env: 'VALET_ALLOW_PLAINTEXT_CACHE',
    key: 'allowPlaintextCache',
    fix: 'use 1 to allow a 0600 plaintext token cache when no keyring exists, or 0',
  },
  auditMaxMegabytes: {
    env: 'VALET_AUDIT_MAX_MB',
    key: 'auditMaxMegabytes',
    fix: `use a whole number of megabytes, at least ${MIN_AUDIT_MAX_MB}, or 0 to keep the whole log`,
  },
  auditMaxAgeDays: {
    env: 'VALET_AUDIT_MAX_AGE_DAYS',
    key: 'auditMaxAgeDays',
    fix: 'use a whole number of days up to 36500, or 0 to keep records of any age',
  },
  dataDir: {
    env: 'VALET_DATA_DIR',
    key: 'dataDir',
    fix: 'choose a directory you own, or fix its permissions',
  },
} as const satisfies Record<string, SettingInfo>;

/** The name of a setting. */
export type SettingName = keyof typeof SETTINGS;

function wholeNumber(max: number) {
  return z.coerce
    .number({ error: 'is not a number' })
    .int('is not a whole number')
    .min(0, 'is below 0')
    .max(max, `is above ${max}`);
}

/** Validators for each setting's raw string or JSON value. Messages say what was expected. */
export const settingSchemas = {
  clientId: z.string().trim().regex(GUID, 'is not a GUID'),
  tenantId: z
    .string()
    .trim()
    .refine(
      (v) => GUID.test(v) || DOMAIN.test(v) || ['organizations', 'common', 'consumers'].includes(v),
      'is not a tenant GUID, a domain or organizations',
    ),
  authority: z
    .string()
    .trim()
    // The checks after this one parse the URL: stop here when it is none.
    .refine((v) => URL.canParse(v), { error: 'is not a URL', abort: true })
    .refine(
      (v) => new URL(v).protocol === 'https:',
      'is not https (MSAL only talks to https authorities)',
    )
    .refine((v) => new URL(v).pathname.replace(/\/+$/, '').length > 1, 'has no tenant in its path'),
  graphUrl: z
    .string()
    .trim()
    // The checks after this one parse the URL: stop here when it is none.
    .refine((v) => URL.canParse(v), { error: 'is not a URL', abort: true })
    .refine((v) => {
      const u = new URL(v);
      return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname));
    }, 'is not https'),
  port: z.coerce
    .number({ error: 'is not a number' })
    .int('is not a whole number')
    .min(0, 'is below 0')
    .max(65535, 'is above 65535'),
  broker: z.enum(BROKER_MODES, { error: 'is not a known broker mode' }),
  allowPlaintextCache: z.preprocess(
    (v) => (typeof v === 'boolean' ? String(v) : v),
    z
      .enum(['1', '0', 'true', 'false'], { error: 'is not 1 or 0' })
      .transform((v) => v === '1' || v === 'true'),
  ),
  auditMaxMegabytes: wholeNumber(1_048_576).refine(
    (v) => v === 0 || v >= MIN_AUDIT_MAX_MB,
    `is below ${MIN_AUDIT_MAX_MB}`,
  ),
  auditMaxAgeDays: wholeNumber(36_500),
  dataDir: z.string().trim().min(1, 'is empty'),
} satisfies Record<SettingName, z.ZodType>;

/** The config file (`config.json` in the data dir). Unknown keys are refused so typos surface. */
export const configFileSchema = z.strictObject({
  clientId: z.string().optional(),
  tenantId: z.string().optional(),
  authority: z.string().optional(),
  graphUrl: z.string().optional(),
  port: z.union([z.number(), z.string()]).optional(),
  broker: z.string().optional(),
  allowPlaintextCache: z.union([z.boolean(), z.string()]).optional(),
  auditMaxMegabytes: z.union([z.number(), z.string()]).optional(),
  auditMaxAgeDays: z.union([z.number(), z.string()]).optional(),
  /** Tool switches, app-role requirements, approvals and rate limits (see policy-schema.ts). */
  policy: z.unknown().optional(),
  /** Settings of `serve --remote` (validated by loadRemoteConfig, see remote-settings.ts). */
  remote: z.unknown().optional(),
});

/** The parsed config file. */
export type ConfigFile = z.infer<typeof configFileSchema>;
