import type { INativeBrokerPlugin } from '@azure/msal-node';
import type { BrokerMode } from '../config/config-schema.ts';
import { describeError } from '../util/valet-error.ts';

/** The result of trying to load the OS broker. */
export interface BrokerLoad {
  plugin: INativeBrokerPlugin | undefined;
  available: boolean;
  reason: string;
}

/** Loads a broker plugin; injected so that tests can pass a broker test double. */
export type BrokerLoader = () => Promise<INativeBrokerPlugin>;

/**
 * Whether the broker may be tried at all for this mode and platform. Under `auto` only
 * Windows (WAM) and macOS (Enterprise SSO) are tried: on Linux the broker needs the
 * Microsoft Identity Broker service, which only managed devices have, so it is `on`-only.
 */
export function brokerAllowed(
  mode: BrokerMode,
  platform: NodeJS.Platform,
): { allowed: boolean; reason: string } {
  if (mode === 'off') return { allowed: false, reason: 'turned off (VALET_BROKER=off)' };
  if (mode === 'on') return { allowed: true, reason: 'requested (VALET_BROKER=on)' };
  if (platform === 'win32' || platform === 'darwin') return { allowed: true, reason: 'auto' };
  return {
    allowed: false,
    reason: `not used on ${platform} under VALET_BROKER=auto (set VALET_BROKER=on on a device with the Microsoft Identity Broker)`,
  };
}

/**
 * The real loader: imports msal-node-extensions' NativeBrokerPlugin only when called, so
 * the broker's native runtime (tens of MB) is loaded only where and when it is wanted.
 */
export const loadNativeBrokerPlugin: BrokerLoader = async () => {
  const { NativeBrokerPlugin } = await import('@azure/msal-node-extensions');
  return new NativeBrokerPlugin();
};

/** Loads the broker if the mode and platform allow it, and says why it is or isn't available. */
export async function loadBroker(
  mode: BrokerMode,
  platform: NodeJS.Platform,
  loader: BrokerLoader,
): Promise<BrokerLoad> {
  const allowed = brokerAllowed(mode, platform);
  if (!allowed.allowed) return { plugin: undefined, available: false, reason: allowed.reason };
  try {
    const plugin = await loader();
    if (!plugin.isBrokerAvailable) {
      return {
        plugin: undefined,
        available: false,
        reason: 'the broker runtime reports it is not available on this system',
      };
    }
    return {
      plugin,
      available: true,
      reason: platform === 'win32' ? 'Web Account Manager (WAM)' : 'OS broker available',
    };
  } catch (err) {
    return {
      plugin: undefined,
      available: false,
      reason: `the broker runtime could not be loaded (${describeError(err)})`,
    };
  }
}
