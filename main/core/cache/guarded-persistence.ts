import type { IPersistence } from '@azure/msal-node-extensions';
import { z } from 'zod';

/** What happened when a damaged cache was found: when, why, and where the damaged copy went. */
export interface CacheRecovery {
  at: string;
  reason: string;
  setAsideTo: string;
}

const section = z.record(z.string(), z.record(z.string(), z.unknown()));
/** MSAL's serialized cache: an object of sections, each an object of entries. */
const cacheShape = z.looseObject({
  Account: section.optional(),
  IdToken: section.optional(),
  AccessToken: section.optional(),
  RefreshToken: section.optional(),
  AppMetadata: section.optional(),
});

/** Says why `contents` is not a usable MSAL cache, or undefined when it is. */
export function cacheDamage(contents: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(contents);
  } catch {
    return 'it is not valid JSON';
  }
  return cacheShape.safeParse(json).success ? undefined : 'it is not an MSAL token cache';
}

/**
 * Wraps a persistence so that a damaged cache never reaches MSAL: the damaged copy is set
 * aside (renamed, or moved to another keyring entry), an empty cache takes its place, and
 * the recovery is reported. A damaged cache is therefore never fatal.
 */
export function guardPersistence(
  inner: IPersistence,
  setAside: (contents: string | undefined) => Promise<string>,
  onRecovered: (recovery: CacheRecovery) => void,
): IPersistence {
  const recover = async (reason: string, contents: string | undefined): Promise<null> => {
    const setAsideTo = await setAside(contents);
    await inner.save('{}');
    onRecovered({ at: new Date().toISOString(), reason, setAsideTo });
    return null;
  };
  // MSAL overwrites its in-memory cache with the snapshot it last deserialized before every
  // silent call. The plugin skips reloading after this process's own write when the file's
  // mtime lands in the same millisecond as its last sync, which would leave MSAL with a stale
  // snapshot and lose the tokens just written. So the next access after a save reloads.
  let wroteSinceLoad = false;
  return {
    save: async (contents) => {
      await inner.save(contents);
      wroteSinceLoad = true;
    },
    delete: () => inner.delete(),
    reloadNecessary: async (lastSync) => wroteSinceLoad || inner.reloadNecessary(lastSync),
    getFilePath: () => inner.getFilePath(),
    getLogger: () => inner.getLogger(),
    verifyPersistence: () => inner.verifyPersistence(),
    createForPersistenceValidation: () => inner.createForPersistenceValidation(),
    async load() {
      wroteSinceLoad = false;
      let contents: string | null;
      try {
        contents = await inner.load();
      } catch (err) {
        // An encrypted file that no longer decrypts is damaged; a keyring that stopped
        // answering is not, and must surface as it is.
        if (!isUndecryptable(err)) throw err;
        return recover('it could not be decrypted', undefined);
      }
      if (contents === null || contents.trim() === '') return contents;
      const damage = cacheDamage(contents);
      return damage === undefined ? contents : recover(damage, contents);
    },
  };
}

function isUndecryptable(err: unknown): boolean {
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  return /decrypt|CryptUnprotectData|dpapi/i.test(text);
}
