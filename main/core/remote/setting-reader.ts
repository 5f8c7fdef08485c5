import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config/load-config.ts';
import { readFileIfExists } from '../util/atomic-file.ts';
import {
  REMOTE_SETTINGS,
  remoteSettingSchemas,
  type RemoteSettingInfo,
  type RemoteSettingName,
  type RemoteSettingValue,
} from './remote-settings.ts';

/** Where a remote setting's value came from; earlier sources win. */
export type RemoteSettingSource = 'flag' | 'env' | 'file' | 'default';

/** The settings that `serve --remote` also takes as command-line flags. */
export type FlaggedSetting = {
  [N in RemoteSettingName]: (typeof REMOTE_SETTINGS)[N] extends { flag: string } ? N : never;
}[RemoteSettingName];

/** Command-line flags as given, keyed by setting (e.g. `redisUrl` for `--redis`). */
export type RemoteFlags = Partial<Record<FlaggedSetting, string>>;

/** A setting's raw value, where it came from, and how to name it in a message. */
export interface RawSetting {
  value: unknown;
  source: Exclude<RemoteSettingSource, 'default'>;
  where: string;
}

/**
 * Reads remote settings from the flags, then the environment, then config.json's `remote`
 * section, and turns a bad value into one ConfigError line naming the setting, the problem and
 * the fix. A secret's value is never quoted.
 */
export class SettingReader {
  readonly sources = {} as Record<RemoteSettingName, RemoteSettingSource>;
  private readonly env: NodeJS.ProcessEnv;
  private readonly flags: RemoteFlags;
  private readonly file: Record<string, unknown>;
  private readonly configFile: string | undefined;

  constructor(
    env: NodeJS.ProcessEnv,
    flags: RemoteFlags,
    file: Record<string, unknown>,
    configFile: string | undefined,
  ) {
    this.env = env;
    this.flags = flags;
    this.file = file;
    this.configFile = configFile;
  }

  /** The raw value of a setting from the first source that has one. */
  raw(name: RemoteSettingName): RawSetting | undefined {
    const info: RemoteSettingInfo = REMOTE_SETTINGS[name];
    const flag = nonEmpty((this.flags as Record<string, string | undefined>)[name]);
    if (flag !== undefined && info.flag) return { value: flag, source: 'flag', where: info.flag };
    const fromEnv = nonEmpty(this.env[info.env]);
    if (fromEnv !== undefined) return { value: fromEnv, source: 'env', where: info.env };
    const fromFile = info.envOnly ? undefined : this.file[info.key];
    if (fromFile !== undefined && fromFile !== null && fromFile !== '')
      return {
        value: fromFile,
        source: 'file',
        where: `remote.${info.key} in ${this.configFile ?? 'config.json'}`,
      };
    return undefined;
  }

  /** The validated value of a setting, or undefined when no source sets it. */
  get<N extends RemoteSettingName>(name: N): RemoteSettingValue<N> | undefined {
    const raw = this.raw(name);
    this.sources[name] = raw ? raw.source : 'default';
    return raw ? this.parse(name, raw) : undefined;
  }

  /** Validates a raw value, or throws the one-line ConfigError. */
  parse<N extends RemoteSettingName>(name: N, raw: RawSetting): RemoteSettingValue<N> {
    const result = remoteSettingSchemas[name].safeParse(raw.value);
    if (result.success) return result.data as RemoteSettingValue<N>;
    const issue = result.error.issues[0];
    const index = issue?.path.find((p) => typeof p === 'number');
    const items = Array.isArray(raw.value) ? raw.value : String(raw.value).split(/[,\s]+/);
    const problem =
      index !== undefined && !isSecret(name)
        ? `has ${quote(items.filter(Boolean)[index])}, which ${issue?.message === 'Invalid input' ? 'is not valid' : (issue?.message ?? 'is not valid')}`
        : (issue?.message ?? 'is not valid');
    throw this.error(name, raw, problem);
  }

  /** The ConfigError for a setting: `<where> <problem> (got '<value>'): <fix>`. */
  error(name: RemoteSettingName, raw: RawSetting, problem: string, fix?: string): ConfigError {
    const got = isSecret(name)
      ? ''
      : ` (got ${quote(name === 'redisUrl' ? hidePassword(raw.value) : raw.value)})`;
    return new ConfigError(
      name,
      `${raw.where} ${problem}${got}: ${fix ?? REMOTE_SETTINGS[name].fix}`,
    );
  }

  /** A path setting resolved to an absolute path: a config file's paths are relative to it. */
  resolvePath(raw: RawSetting, path: string): string {
    return raw.source === 'file' && this.configFile
      ? resolve(dirname(this.configFile), path)
      : resolve(path);
  }

  /** Checks that a path setting names a file this process can read, and returns its absolute path. */
  async readableFile(name: RemoteSettingName, raw: RawSetting, path: string): Promise<string> {
    const absolute = this.resolvePath(raw, path);
    try {
      if (!(await stat(absolute)).isFile()) throw Object.assign(new Error(), { code: 'ENOTFILE' });
      await access(absolute, constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      const problem = code === 'ENOTFILE' ? 'is not a file' : `cannot be read (${code})`;
      throw new ConfigError(
        name,
        `${raw.where} ${absolute} ${problem}: ${REMOTE_SETTINGS[name].fix}`,
      );
    }
    return absolute;
  }
}

/** Reads config.json's `remote` section; unknown keys are refused so typos surface. */
export async function readRemoteSection(configFile: string): Promise<Record<string, unknown>> {
  const text = await readFileIfExists(configFile);
  if (text === undefined || text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      'configFile',
      `${configFile} is not valid JSON (${(err as Error).message}): fix or delete the file`,
    );
  }
  const remote = (json as { remote?: unknown } | null)?.remote;
  if (remote === undefined || remote === null) return {};
  if (typeof remote !== 'object' || Array.isArray(remote))
    throw new ConfigError(
      'configFile',
      `remote in ${configFile} is not an object: write the remote settings as { "publicUrl": "https://…", … }`,
    );
  const settings: RemoteSettingInfo[] = Object.values(REMOTE_SETTINGS);
  const known = settings.filter((s) => !s.envOnly).map((s) => s.key);
  const unknown = Object.keys(remote).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    throw new ConfigError(
      'configFile',
      `remote in ${configFile} has unknown setting ${unknown.join(', ')}: known remote settings are ${known.join(', ')}`,
    );
  return remote as Record<string, unknown>;
}

function isSecret(name: RemoteSettingName): boolean {
  const info: RemoteSettingInfo = REMOTE_SETTINGS[name];
  return info.secret === true;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

/** Quotes a non-secret value for a message, cut to 80 characters. */
export function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  return `'${s.length > 80 ? `${s.slice(0, 77)}...` : s}'`;
}

/** A URL with its password (or a lone user-info part, which may be one) replaced, for messages. */
export function hidePassword(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  return v.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@').replace(/\/\/[^/@:]+@/, '//***@');
}
