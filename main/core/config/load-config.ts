import { join, resolve } from 'node:path';
import { ValetError } from '../util/valet-error.ts';
import { readFileIfExists } from '../util/atomic-file.ts';
import { defaultAuthority, resolveAuthority, type ResolvedAuthority } from './authority.ts';
import {
  configFileSchema,
  DEFAULT_AUDIT_MAX_MB,
  DEFAULT_GRAPH_URL,
  DEFAULT_PORT,
  DEFAULT_TENANT,
  SETTINGS,
  settingSchemas,
  type BrokerMode,
  type ConfigFile,
  type SettingName,
} from './config-schema.ts';
import { checkWritableDir, defaultDataDir } from './data-dir.ts';
import { describePolicyError, policySchema, type Policy } from '../policy/policy-schema.ts';

/** The name of the config file inside the data dir. */
export const CONFIG_FILE_NAME = 'config.json';

/** Where a setting's value came from. */
export type SettingSource = 'env' | 'file' | 'default';

/** The validated configuration every part of the core is built from. */
export interface ValetConfig {
  dataDir: string;
  configFile: string;
  /** Undefined until the user registers an app (first-run screen, or VALET_CLIENT_ID). */
  clientId: string | undefined;
  tenantId: string;
  authority: ResolvedAuthority;
  graphUrl: string;
  port: number;
  broker: BrokerMode;
  allowPlaintextCache: boolean;
  /** How much audit log to keep: older files are pruned past either limit (0: no limit). */
  auditRetention: { maxMegabytes: number; maxAgeDays: number };
  /** The policy at start; PolicyStore follows later edits. */
  policy: Policy;
  sources: Record<SettingName, SettingSource>;
}

/** Raised for a bad setting: the message is one line naming the setting, the problem and the fix. */
export class ConfigError extends ValetError {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super('config_invalid', message);
    this.name = 'ConfigError';
    this.setting = setting;
  }
}

interface Raw {
  value: unknown;
  source: SettingSource;
}

/**
 * Reads the configuration: environment variables override the config file in the data
 * dir, which overrides the defaults. Throws ConfigError on the first bad value.
 */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<ValetConfig> {
  const dataDirRaw = nonEmpty(env[SETTINGS.dataDir.env]);
  const dataDir = resolve(
    dataDirRaw === undefined
      ? defaultDataDir(process.platform, env)
      : parseSetting('dataDir', { value: dataDirRaw, source: 'env' }),
  );
  const writeError = await checkWritableDir(dataDir);
  if (writeError) {
    const named = dataDirRaw === undefined ? 'the data directory' : SETTINGS.dataDir.env;
    throw new ConfigError(
      'dataDir',
      `${named} ${dataDir} is not writable (${writeError}): ${SETTINGS.dataDir.fix}${dataDirRaw === undefined ? ', or set VALET_DATA_DIR' : ''}`,
    );
  }
  const configFile = join(dataDir, CONFIG_FILE_NAME);
  const file = await readConfigFile(configFile);

  const sources = { dataDir: dataDirRaw === undefined ? 'default' : 'env' } as Record<
    SettingName,
    SettingSource
  >;
  const pick = (name: Exclude<SettingName, 'dataDir'>): Raw | undefined => {
    const fromEnv = nonEmpty(env[SETTINGS[name].env]);
    if (fromEnv !== undefined) return { value: fromEnv, source: 'env' };
    const fromFile = file[name];
    if (fromFile !== undefined && fromFile !== '') return { value: fromFile, source: 'file' };
    return undefined;
  };
  const get = <N extends Exclude<SettingName, 'dataDir'>, T>(name: N, fallback: T) => {
    const raw = pick(name);
    sources[name] = raw ? raw.source : 'default';
    return raw ? parseSetting(name, raw, configFile) : fallback;
  };

  const clientId = get('clientId', undefined);
  const tenantRaw = get('tenantId', undefined);
  const authorityRaw = get('authority', undefined);
  const authority = resolveAuthority(authorityRaw ?? defaultAuthority(tenantRaw ?? DEFAULT_TENANT));
  const policy = policySchema.safeParse(file.policy ?? {});
  if (!policy.success) {
    throw new ConfigError(
      'policy',
      `${describePolicyError(policy.error)} in ${configFile}: fix the policy section (see the README, "Policy")`,
    );
  }
  return {
    dataDir,
    configFile,
    clientId,
    tenantId: tenantRaw ?? authority.tenant,
    authority,
    graphUrl: get('graphUrl', DEFAULT_GRAPH_URL).replace(/\/+$/, ''),
    port: get('port', DEFAULT_PORT),
    broker: get('broker', 'auto'),
    allowPlaintextCache: get('allowPlaintextCache', false),
    auditRetention: {
      maxMegabytes: get('auditMaxMegabytes', DEFAULT_AUDIT_MAX_MB),
      maxAgeDays: get('auditMaxAgeDays', 0),
    },
    policy: policy.data,
    sources,
  };
}

function parseSetting<N extends SettingName>(
  name: N,
  raw: Raw,
  configFile?: string,
): ReturnType<(typeof settingSchemas)[N]['parse']> {
  const result = settingSchemas[name].safeParse(raw.value);
  if (result.success) return result.data as ReturnType<(typeof settingSchemas)[N]['parse']>;
  const info = SETTINGS[name];
  const where = raw.source === 'env' ? info.env : `${info.key} in ${configFile}`;
  const problem = result.error.issues[0]?.message ?? 'is not valid';
  throw new ConfigError(name, `${where} ${problem} (got ${quote(raw.value)}): ${info.fix}`);
}

async function readConfigFile(path: string): Promise<ConfigFile> {
  const text = await readFileIfExists(path);
  if (text === undefined || text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      'configFile',
      `${path} is not valid JSON (${(err as Error).message}): fix or delete the file`,
    );
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const unknown = issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : undefined;
    const detail = unknown
      ? `has unknown setting ${unknown}`
      : `has a bad value at ${issue?.path.join('.') || 'top level'} (${issue?.message})`;
    throw new ConfigError(
      'configFile',
      `${path} ${detail}: known settings are ${Object.keys(configFileSchema.shape).join(', ')}`,
    );
  }
  return parsed.data;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return `'${s.length > 80 ? `${s.slice(0, 77)}...` : s}'`;
}
