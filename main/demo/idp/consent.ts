import type { Provider } from 'oidc-provider';
import type { AppDirectory } from './apps.ts';
import { GRAPH_RESOURCE } from './directory.ts';
import type { MemoryStore } from './store.ts';
import type { UserDirectory } from './users.ts';

type Grant = InstanceType<Provider['Grant']>;

/** Who may hold consent: the IdP's users and clients, and where grants live. */
export interface ConsentContext {
  provider: Provider;
  store: MemoryStore;
  apps: AppDirectory;
  users: UserDirectory;
  /** Every client ID the IdP knows, public and confidential. */
  clientIds: ReadonlySet<string>;
}

/** Adds scopes to a grant under the resource each belongs to; unknown scopes are an error. */
export function grantScopes(apps: AppDirectory, grant: Grant, scopes: readonly string[]): void {
  const split = apps.split(scopes);
  if (split.unknown.length > 0) {
    throw new Error(`Unknown scopes: ${split.unknown.join(' ')}. Use OpenID, Graph or API scopes.`);
  }
  if (split.oidc.length > 0) grant.addOIDCScope(split.oidc.join(' '));
  if (split.graph.length > 0) grant.addResourceScope(GRAPH_RESOURCE, split.graph.join(' '));
  for (const [api, { names }] of split.apis) {
    const forms = apps.scopeForms(api, names).join(' ');
    for (const uri of api.identifierUris) grant.addResourceScope(uri, forms);
  }
}

/**
 * Replaces what a user consented to for a client. The grant keeps its ID, so refresh
 * tokens issued under it stay valid and see the new consent on their next use, as an
 * Entra refresh token does.
 */
export async function setConsent(
  context: ConsentContext,
  username: string,
  clientId: string,
  scopes: readonly string[],
): Promise<void> {
  const { provider, store, apps, users } = context;
  const user = users.byUsername(username);
  if (!user) throw new Error(`No user named ${username}.`);
  if (!context.clientIds.has(clientId)) throw new Error(`No client with the ID ${clientId}.`);
  const grantId = store.grantIdFor(user.id, clientId);
  const grant =
    (grantId ? await provider.Grant.find(grantId) : undefined) ??
    new provider.Grant({ accountId: user.id, clientId });
  Object.assign(grant, { openid: undefined, resources: undefined });
  grantScopes(apps, grant, scopes);
  await grant.save();
}
