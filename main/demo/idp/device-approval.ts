import type { Provider } from 'oidc-provider';
import type { AppDirectory } from './apps.ts';
import { grantScopes } from './consent.ts';
import { GRAPH_RESOURCE } from './directory.ts';
import type { UserDirectory } from './users.ts';

/** oidc-provider stores user codes upper-cased without separators. */
function normalizeUserCode(userCode: string): string {
  return userCode.toUpperCase().replace(/\W/g, '');
}

/**
 * Approves a pending device code as `username`, granting the scopes it asked for: what the
 * device page does after sign-in and consent, done directly. The demo uses it to sign its
 * first user in through the real device code grant without a browser.
 */
export async function approveDeviceCode(
  provider: Provider,
  users: UserDirectory,
  apps: AppDirectory,
  userCode: string,
  username: string,
): Promise<void> {
  const user = users.byUsername(username);
  if (!user) throw new Error(`No user named ${username}.`);
  const code = await provider.DeviceCode.findByUserCode(normalizeUserCode(userCode), {
    ignoreExpiration: true,
  });
  if (!code) throw new Error(`No device code ${userCode} is pending.`);
  if (code.isExpired) throw new Error(`The device code ${userCode} has expired.`);
  if (code.accountId || code.error)
    throw new Error(`The device code ${userCode} was already used.`);
  const requested = String((code.params as { scope?: unknown } | undefined)?.scope ?? '')
    .split(' ')
    .filter(Boolean);
  const split = apps.split(requested);
  const oidc = [...new Set(['openid', ...split.oidc])];
  const resourceScopes = requested.filter((scope) => !split.oidc.includes(scope));
  const [api] = split.apis.values();
  const resource = api ? [...api.uris][0] : split.graph.length > 0 ? GRAPH_RESOURCE : undefined;
  const grant = new provider.Grant({ accountId: user.id, clientId: code.clientId });
  grantScopes(apps, grant, [...oidc, ...resourceScopes]);
  const grantId = await grant.save();
  Object.assign(code, {
    accountId: user.id,
    authTime: Math.floor(Date.now() / 1000),
    grantId,
    scope: [...oidc, ...resourceScopes].join(' '),
    ...(resource ? { resource } : {}),
  });
  await code.save();
}
