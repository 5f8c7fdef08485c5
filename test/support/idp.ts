import { inject } from 'vitest';
import { startIdp } from '../../main/demo/idp/index.ts';
import type { IdpOptions, RunningIdp } from '../../main/demo/idp/index.ts';

/** Starts a test IdP signed by this run's CA; device code polling is sped up to 1 s. */
export function startTestIdp(overrides: Partial<Omit<IdpOptions, 'ca'>> = {}): Promise<RunningIdp> {
  return startIdp({ ca: inject('idpCa'), deviceCodeIntervalSeconds: 1, ...overrides });
}

/** MSAL `auth` settings for an IdP: its authority, trusted so that no instance discovery goes out. */
export function msalAuthFor(
  idp: RunningIdp,
  clientId: string = idp.clientIds[0] ?? '',
): { clientId: string; authority: string; knownAuthorities: string[] } {
  return { clientId, authority: idp.authority, knownAuthorities: [idp.host] };
}
