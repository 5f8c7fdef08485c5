import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Extensions from '@azure/msal-node-extensions';

/** The parts of msal-node-extensions that persist the token cache (no broker). */
export interface PersistenceModules {
  PersistenceCreator: typeof Extensions.PersistenceCreator;
  PersistenceCachePlugin: typeof Extensions.PersistenceCachePlugin;
  FilePersistence: typeof Extensions.FilePersistence;
  LibSecretPersistence: typeof Extensions.LibSecretPersistence;
  KeychainPersistence: typeof Extensions.KeychainPersistence;
  DataProtectionScope: typeof Extensions.DataProtectionScope;
}

const require = createRequire(import.meta.url);

/**
 * Loads the persistence classes from their own module files. The package's entry point also
 * imports the native broker runtime (tens of MB of native code), which must load only when
 * the broker is actually wanted; if the file layout ever changes, the entry point is used.
 */
export async function loadPersistenceModules(): Promise<PersistenceModules> {
  try {
    const dist = join(
      dirname(require.resolve('@azure/msal-node-extensions')),
      '..',
      'dist',
      'persistence',
    );
    const load = (file: string) => import(pathToFileURL(join(dist, file)).href);
    const [creator, plugin, file, libsecret, keychain, scope] = await Promise.all([
      load('PersistenceCreator.mjs'),
      load('PersistenceCachePlugin.mjs'),
      load('FilePersistence.mjs'),
      load('LibSecretPersistence.mjs'),
      load('KeychainPersistence.mjs'),
      load('DataProtectionScope.mjs'),
    ]);
    return {
      PersistenceCreator: creator.PersistenceCreator,
      PersistenceCachePlugin: plugin.PersistenceCachePlugin,
      FilePersistence: file.FilePersistence,
      LibSecretPersistence: libsecret.LibSecretPersistence,
      KeychainPersistence: keychain.KeychainPersistence,
      DataProtectionScope: scope.DataProtectionScope,
    };
  } catch {
    return import('@azure/msal-node-extensions');
  }
}
