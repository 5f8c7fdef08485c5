import { ConfidentialClientApplication, LogLevel } from '@azure/msal-node';
import type { ResolvedAuthority } from '../../config/authority.ts';
import type { Logger } from '../../util/logger.ts';
import type { CacheKeys } from '../cache-keys.ts';
import type { MsalCredential } from '../credentials.ts';
import { cloudDiscoveryMetadata } from '../entra/on-behalf-of.ts';
import { userCachePlugin, type SealedSeen } from '../shared-token-cache.ts';
import type { SharedStore } from '../store/shared-store.ts';

/** What the server's MSAL clients are built from. */
export interface WebMsalConfig {
  clientId: string;
  authority: ResolvedAuthority;
  credential: MsalCredential;
  /** The authority's OpenID configuration, loaded once at start. */
  authorityMetadata: () => string | undefined;
  store: SharedStore;
  cacheKeys: CacheKeys;
  logger: Logger;
}

/**
 * Builds the confidential client for one user's request. A client per request keeps each
 * user's token cache partition apart (MSAL binds the partition to the client), and it costs no
 * discovery: the authority's metadata and instance discovery's answer are handed in.
 * `homeAccountId` is undefined before sign-in: the partition is then named by the account.
 * `seen` is told of each sealed value of a partition the client read or wrote.
 */
export function createWebMsal(
  config: WebMsalConfig,
  homeAccountId?: string,
  seen?: SealedSeen,
): ConfidentialClientApplication {
  const metadata = config.authorityMetadata();
  const { logger } = config;
  return new ConfidentialClientApplication({
    auth: {
      clientId: config.clientId,
      authority: config.authority.url,
      knownAuthorities: config.authority.knownAuthorities,
      ...(metadata !== undefined ? { authorityMetadata: metadata } : {}),
      cloudDiscoveryMetadata: cloudDiscoveryMetadata(config.authority),
      ...config.credential,
    },
    cache: {
      cachePlugin: userCachePlugin(config.store, config.cacheKeys, homeAccountId, {
        onDamaged: (key, reason) =>
          logger.warn(
            `The token cache partition ${key} could not be opened and was dropped (${reason}); its user signs in again`,
          ),
        ...(seen ? { seen } : {}),
      }),
    },
    system: {
      loggerOptions: {
        // MSAL's own warnings help find a misconfigured app; never personal data.
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message) => {
          if (level <= LogLevel.Error) logger.warn(`MSAL: ${message}`);
        },
      },
    },
  });
}
