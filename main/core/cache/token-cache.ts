import { access, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ICachePlugin } from '@azure/msal-node';
import type { IPersistence } from '@azure/msal-node-extensions';
import { describeError } from '../util/valet-error.ts';
import { guardPersistence, type CacheRecovery } from './guarded-persistence.ts';
import { loadPersistenceModules, type PersistenceModules } from './msal-extensions.ts';

/** How the token cache is kept. */
export type CacheKind = 'dpapi' | 'keychain' | 'libsecret' | 'plaintext' | 'memory';

/** What status shows about the token cache. */
export interface CacheState {
  kind: CacheKind;
  persisted: boolean;
  /** Why this kind was chosen, in words a person can act on. */
  reason: string;
  /** Set when a damaged cache was found and set aside during this run. */
  recovered?: CacheRecovery;
  /** The file MSAL's cache (or, for keyrings, its change marker) lives in. */
  path?: string;
}

/** The token cache for MSAL, and its state. */
export interface TokenCache {
  /**
   * A cache plugin for one MSAL client, or undefined when the cache lives in memory. Each
   * client needs its own: a plugin remembers what it last loaded, so a shared one would
   * leave a second client's cache empty and could overwrite the first one's tokens.
   */
  createPlugin(): ICachePlugin | undefined;
  state: CacheState;
}

/** Options for openTokenCache. */
export interface TokenCacheOptions {
  dataDir: string;
  allowPlaintext: boolean;
  platform?: NodeJS.Platform;
  /** Keyring service and account names; tests use their own. */
  serviceName?: string;
  accountName?: string;
  onRecovered?: (recovery: CacheRecovery) => void;
}

/** The file name of the cache inside the data dir. */
export const CACHE_FILE_NAME = 'token-cache.json';

/**
 * Opens the token cache with the OS's protection: DPAPI on Windows, the Keychain on macOS,
 * the Secret Service (libsecret) on Linux, with msal-node-extensions' cross-process lock.
 * Without a usable keyring the cache stays in memory unless a 0600 plaintext file was
 * explicitly allowed. Never throws for a missing keyring or a damaged cache.
 */
export async function openTokenCache(options: TokenCacheOptions): Promise<TokenCache> {
  const platform = options.platform ?? process.platform;
  const cachePath = join(options.dataDir, CACHE_FILE_NAME);
  const serviceName = options.serviceName ?? 'MCP Valet';
  const accountName = options.accountName ?? 'msal-token-cache';
  const ext = await loadPersistenceModules();
  const state: CacheState = { kind: 'memory', persisted: false, reason: '', path: cachePath };
  const onRecovered = (recovery: CacheRecovery) => {
    state.recovered = recovery;
    options.onRecovered?.(recovery);
  };

  const secureKind: CacheKind | undefined =
    platform === 'win32'
      ? 'dpapi'
      : platform === 'darwin'
        ? 'keychain'
        : platform === 'linux'
          ? 'libsecret'
          : undefined;
  let secureFailure = `${platform} has no supported OS-protected store`;
  const cacheExisted = await exists(cachePath);
  if (secureKind) {
    try {
      const persistence = await ext.PersistenceCreator.createPersistence({
        cachePath,
        dataProtectionScope: ext.DataProtectionScope.CurrentUser,
        serviceName,
        accountName,
        usePlaintextFileOnLinux: false,
      });
      const setAside =
        secureKind === 'dpapi'
          ? renameAside(cachePath)
          : keyringAside(ext, secureKind, cachePath, serviceName, accountName);
      Object.assign(state, {
        kind: secureKind,
        persisted: true,
        reason: SECURE_REASON[secureKind],
      });
      const guarded = guardPersistence(persistence, setAside, onRecovered);
      return { createPlugin: () => plugin(ext, guarded), state };
    } catch (err) {
      secureFailure = `${STORE_NAME[secureKind]} is not usable (${innermost(describeError(err))})`;
      // The failed attempt leaves an empty marker and a probe file behind; they hold nothing.
      await rm(join(options.dataDir, 'test.cache'), { force: true });
      if (!cacheExisted) await rm(cachePath, { force: true });
    }
  }
  if (options.allowPlaintext) {
    const persistence = await ext.FilePersistence.create(cachePath);
    const guarded = guardPersistence(persistence, renameAside(cachePath), onRecovered);
    Object.assign(state, {
      kind: 'plaintext',
      persisted: true,
      reason: `${secureFailure}; VALET_ALLOW_PLAINTEXT_CACHE=1 allows an unencrypted cache file readable only by you (mode 0600)`,
    });
    return { createPlugin: () => plugin(ext, guarded), state };
  }
  state.reason = `not persisted: ${secureFailure}, so tokens are kept in memory for this process only. Unlock or install a keyring (gnome-keyring), or set VALET_ALLOW_PLAINTEXT_CACHE=1 to allow a 0600 file`;
  delete state.path;
  return { createPlugin: () => undefined, state };
}

const STORE_NAME: Record<CacheKind, string> = {
  dpapi: 'Windows DPAPI',
  keychain: 'the macOS Keychain',
  libsecret: 'the Secret Service keyring (libsecret)',
  plaintext: 'a plaintext file',
  memory: 'memory',
};

const SECURE_REASON: Record<'dpapi' | 'keychain' | 'libsecret', string> = {
  dpapi: 'encrypted with Windows DPAPI for the current user',
  keychain: 'stored in the macOS Keychain',
  libsecret: 'stored in the Secret Service keyring (libsecret)',
};

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function plugin(ext: PersistenceModules, persistence: IPersistence): ICachePlugin {
  // Bounded lock waits: 100 × 50 ms, so a stuck peer process surfaces as an error in 5 s.
  return new ext.PersistenceCachePlugin(persistence, { retryNumber: 100, retryDelay: 50 });
}

/** msal-node-extensions nests causes as "…failed with the error: Error: <cause>"; keep the cause. */
function innermost(message: string): string {
  const parts = message.split(/(?:^|\s)Error: /);
  return (parts[parts.length - 1] ?? message).trim();
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

function renameAside(cachePath: string) {
  return async (): Promise<string> => {
    const target = `${cachePath}.corrupt-${stamp()}`;
    await rename(cachePath, target);
    return target;
  };
}

function keyringAside(
  ext: PersistenceModules,
  kind: CacheKind,
  cachePath: string,
  serviceName: string,
  accountName: string,
) {
  return async (contents: string | undefined): Promise<string> => {
    const aside = `${accountName}.corrupt-${stamp()}`;
    const Store = kind === 'keychain' ? ext.KeychainPersistence : ext.LibSecretPersistence;
    const p = await Store.create(`${cachePath}.corrupt-marker`, serviceName, aside);
    if (contents !== undefined) await p.save(contents);
    return `${STORE_NAME[kind]} entry "${serviceName}/${aside}"`;
  };
}
