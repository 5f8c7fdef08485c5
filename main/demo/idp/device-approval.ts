import type { Provider } from 'oidc-provider';
import { GRAPH_RESOURCE, GRAPH_SCOPES, OIDC_SCOPES } from './directory.ts';
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
  const oidc = [...new Set(['openid', ...requested.filter((s) => OIDC_SCOPES.has(s))])];
  const graph = requested.filter((s) => GRAPH_SCOPES.has(s));
  const grant = new provider.Grant({ accountId: user.id, clientId: code.clientId });
  grant.addOIDCScope(oidc.join(' '));
  if (graph.length > 0) grant.addResourceScope(GRAPH_RESOURCE, graph.join(' '));
  const grantId = await grant.save();
  Object.assign(code, {
    accountId: user.id,
    authTime: Math.floor(Date.now() / 1000),
    grantId,
    scope: [...oidc, ...graph].join(' '),
    ...(graph.length > 0 ? { resource: GRAPH_RESOURCE } : {}),
  });
  await code.save();
}
