import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/load-config.ts';
import { REMOTE_SETTINGS } from './remote-settings.ts';
import { SecretValue } from './secret-value.ts';
import type { RawSetting, SettingReader } from './setting-reader.ts';

/** The AES-256 key size the shared token cache is sealed with. */
export const CACHE_KEY_BYTES = 32;

/** A cache key and the ID that names it in a sealed value's envelope. */
export interface CacheKey {
  /** The first 16 hex digits of the key's SHA-256: tells keys apart, reveals nothing of them. */
  id: string;
  key: SecretValue<Buffer>;
}

/** The key new values are sealed with, and the one before it, still accepted while rotating. */
export interface CacheKeys {
  current: CacheKey;
  previous?: CacheKey;
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Reads VALET_CACHE_KEY or VALET_CACHE_KEY_FILE (and their _PREVIOUS pair). Each is base64 of
 * exactly 32 bytes; no message ever quotes a key. Undefined when none is set.
 */
export async function readCacheKeys(reader: SettingReader): Promise<CacheKeys | undefined> {
  const current = await readKey(reader, 'cacheKey', 'cacheKeyFile');
  const previous = await readKey(reader, 'cacheKeyPrevious', 'cacheKeyPreviousFile');
  if (!current) {
    if (previous)
      throw new ConfigError(
        'cacheKey',
        `${REMOTE_SETTINGS.cacheKeyPrevious.env} is set without ${REMOTE_SETTINGS.cacheKey.env}: set the new key in ${REMOTE_SETTINGS.cacheKey.env} (or ${REMOTE_SETTINGS.cacheKeyFile.env}) and keep the old one in ${REMOTE_SETTINGS.cacheKeyPrevious.env}`,
      );
    return undefined;
  }
  return previous ? { current, previous } : { current };
}

async function readKey(
  reader: SettingReader,
  valueName: 'cacheKey' | 'cacheKeyPrevious',
  fileName: 'cacheKeyFile' | 'cacheKeyPreviousFile',
): Promise<CacheKey | undefined> {
  const valueRaw = reader.raw(valueName);
  const fileRaw = reader.raw(fileName);
  reader.sources[valueName] = valueRaw ? valueRaw.source : 'default';
  reader.sources[fileName] = fileRaw ? fileRaw.source : 'default';
  if (valueRaw && fileRaw)
    throw new ConfigError(
      valueName,
      `Both ${valueRaw.where} and ${fileRaw.where} are set: keep one of them`,
    );
  if (valueRaw) return decode(valueName, valueRaw, reader.parse(valueName, valueRaw));
  if (!fileRaw) return undefined;
  const file = await reader.readableFile(fileName, fileRaw, reader.parse(fileName, fileRaw));
  const text = await readFile(file, 'utf8');
  return decode(fileName, { ...fileRaw, where: `${fileRaw.where} ${file}` }, text);
}

function decode(
  name: 'cacheKey' | 'cacheKeyPrevious' | 'cacheKeyFile' | 'cacheKeyPreviousFile',
  raw: RawSetting,
  text: string,
): CacheKey {
  const value = text.trim();
  // The message says what is wrong with the key and never quotes it.
  const fail = (problem: string) =>
    new ConfigError(name, `${raw.where} ${problem}: ${REMOTE_SETTINGS.cacheKey.fix}`);
  if (value === '' || !BASE64.test(value)) throw fail('is not base64');
  const key = Buffer.from(
    value,
    value.includes('-') || value.includes('_') ? 'base64url' : 'base64',
  );
  if (key.length !== CACHE_KEY_BYTES) throw fail(`is ${key.length} bytes, not ${CACHE_KEY_BYTES}`);
  return cacheKeyOf(key);
}

/** A cache key with the ID that names it in sealed values. */
export function cacheKeyOf(key: Buffer): CacheKey {
  return {
    id: createHash('sha256').update(key).digest('hex').slice(0, 16),
    key: new SecretValue(key),
  };
}
