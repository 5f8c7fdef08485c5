import { DEMO_APP_NAME, GRAPH_RESOURCE, GRAPH_SCOPES, OIDC_SCOPES } from './directory.ts';
import type { IdpApi, IdpConfidentialClient } from './types.ts';
import { isGuid } from './users.ts';

/** An API registration as the IdP keeps it; its token version can change at run time. */
export interface ApiApp {
  appId: string;
  name: string;
  identifierUris: readonly string[];
  scopes: ReadonlySet<string>;
  preAuthorizedClients: ReadonlySet<string>;
  accessTokenVersion: 1 | 2;
}

/** The scopes of one request, sorted by the resource they belong to. */
export interface ScopeSplit {
  oidc: string[];
  /** Graph scopes, short names (`User.Read`). */
  graph: string[];
  /** API scopes by API: the identifier URIs they were asked with and the scope names. */
  apis: Map<ApiApp, { uris: Set<string>; names: Set<string> }>;
  unknown: string[];
}

/** Shape of a stored oidc-provider grant, as far as consent goes. */
export interface GrantView {
  clientId?: string;
  openid?: { scope?: string };
  resources?: Record<string, string | undefined>;
}

function words(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter(Boolean);
}

function checkIdentifierUri(appId: string, uri: string): void {
  const parsed = URL.parse(uri);
  if (!parsed || uri.includes('#') || uri.endsWith('/')) {
    throw new Error(
      `API ${appId}: identifier URI "${uri}" must be an absolute URI without a fragment or trailing slash, e.g. api://${appId}.`,
    );
  }
}

function checkConfidential(client: IdpConfidentialClient): void {
  const id = client.clientId;
  if (!isGuid(id)) throw new Error(`Client IDs must be GUIDs, got "${id}".`);
  const hasSecret = client.secret !== undefined;
  const hasCertificates = (client.certificates?.length ?? 0) > 0;
  const hasFederated = (client.federatedCredentials?.length ?? 0) > 0;
  if ([hasSecret, hasCertificates, hasFederated].filter(Boolean).length !== 1) {
    throw new Error(
      `Confidential client ${id}: give a secret, certificates or federated credentials (one credential kind per client).`,
    );
  }
  for (const credential of client.federatedCredentials ?? []) {
    if (!credential.issuer || !credential.subject || credential.audiences.length === 0) {
      throw new Error(
        `Confidential client ${id}: a federated credential needs an issuer, a subject and at least one audience.`,
      );
    }
  }
  if (hasSecret && !client.secret)
    throw new Error(`Confidential client ${id}: the secret is empty.`);
  if (client.redirectUris.length === 0) {
    throw new Error(`Confidential client ${id}: give at least one redirect URI.`);
  }
  for (const uri of client.redirectUris) {
    if (URL.parse(uri)?.protocol !== 'https:' && !uri.startsWith('http://localhost')) {
      throw new Error(
        `Confidential client ${id}: redirect URI "${uri}" must be https (or http://localhost).`,
      );
    }
  }
  for (const scope of client.adminConsentedScopes ?? []) {
    if (!GRAPH_SCOPES.has(scope)) {
      throw new Error(
        `Confidential client ${id}: "${scope}" is not a Graph scope the IdP knows (${[...GRAPH_SCOPES.keys()].join(', ')}).`,
      );
    }
  }
}

/**
 * The app registrations of the tenant beyond the demo's public clients: web apps that
 * authenticate (confidential clients) and apps that expose APIs. It knows which resource
 * a scope belongs to, which is how Entra picks the audience of a token.
 */
export class AppDirectory {
  readonly confidentialClients: readonly IdpConfidentialClient[];
  readonly apis: readonly ApiApp[];
  #byUri = new Map<string, ApiApp>();
  #byAppId = new Map<string, ApiApp>();
  #confidential = new Map<string, IdpConfidentialClient>();

  constructor(
    publicClientIds: readonly string[],
    confidentialClients: readonly IdpConfidentialClient[],
    apis: readonly IdpApi[],
  ) {
    const clientIds = new Set(publicClientIds.map((id) => id.toLowerCase()));
    for (const client of confidentialClients) {
      checkConfidential(client);
      if (clientIds.has(client.clientId.toLowerCase())) {
        throw new Error(`Two clients have the ID ${client.clientId}.`);
      }
      clientIds.add(client.clientId.toLowerCase());
      this.#confidential.set(client.clientId, client);
    }
    this.confidentialClients = confidentialClients;
    this.apis = apis.map((api) => this.#register(api));
  }

  #register(api: IdpApi): ApiApp {
    if (!isGuid(api.appId)) throw new Error(`API app IDs must be GUIDs, got "${api.appId}".`);
    if (this.#byAppId.has(api.appId)) throw new Error(`Two APIs have the app ID ${api.appId}.`);
    if (api.identifierUris.length === 0 || api.scopes.length === 0) {
      throw new Error(`API ${api.appId}: give at least one identifier URI and one scope.`);
    }
    const app: ApiApp = {
      appId: api.appId,
      name: api.name ?? api.appId,
      identifierUris: [...api.identifierUris],
      scopes: new Set(api.scopes),
      preAuthorizedClients: new Set(api.preAuthorizedClients ?? []),
      accessTokenVersion: api.accessTokenVersion ?? 2,
    };
    for (const uri of api.identifierUris) {
      checkIdentifierUri(api.appId, uri);
      if (uri === GRAPH_RESOURCE || this.#byUri.has(uri)) {
        throw new Error(`API ${api.appId}: the identifier URI ${uri} is already taken.`);
      }
      this.#byUri.set(uri, app);
    }
    for (const name of api.scopes) {
      if (!/^[A-Za-z0-9._-]+$/.test(name)) {
        throw new Error(
          `API ${api.appId}: scope name "${name}" must be letters, digits, . _ or -.`,
        );
      }
    }
    this.#byAppId.set(api.appId, app);
    return app;
  }

  /** The confidential client with this ID. */
  confidential(clientId: string | undefined): IdpConfidentialClient | undefined {
    return clientId === undefined ? undefined : this.#confidential.get(clientId);
  }

  /** The API with this identifier URI. */
  apiByUri(uri: string): ApiApp | undefined {
    return this.#byUri.get(uri);
  }

  /** The API with this app ID. */
  apiByAppId(appId: string): ApiApp | undefined {
    return this.#byAppId.get(appId);
  }

  /** Display name of a client for consent and device pages. */
  clientName(clientId: string): string {
    return this.#confidential.get(clientId)?.name ?? DEMO_APP_NAME;
  }

  /** Splits `<identifier URI>/<name>` into the API and the name, when it is one. */
  apiScope(scope: string): { api: ApiApp; uri: string; name: string } | undefined {
    const slash = scope.lastIndexOf('/');
    if (slash <= 0) return undefined;
    const uri = scope.slice(0, slash);
    const name = scope.slice(slash + 1);
    const api = this.#byUri.get(uri);
    return api?.scopes.has(name) ? { api, uri, name } : undefined;
  }

  /** Sorts scopes by resource: OpenID, Graph, each API, and those nobody exposes. */
  split(scopes: readonly string[]): ScopeSplit {
    const result: ScopeSplit = { oidc: [], graph: [], apis: new Map(), unknown: [] };
    for (const scope of scopes) {
      if (OIDC_SCOPES.has(scope)) result.oidc.push(scope);
      else if (GRAPH_SCOPES.has(scope)) result.graph.push(scope);
      else {
        const found = this.apiScope(scope);
        if (!found) {
          result.unknown.push(scope);
          continue;
        }
        const entry = result.apis.get(found.api) ?? { uris: new Set(), names: new Set() };
        entry.uris.add(found.uri);
        entry.names.add(found.name);
        result.apis.set(found.api, entry);
      }
    }
    return result;
  }

  /** Whether any app of the tenant (Graph included) exposes the scope. */
  isKnownScope(scope: string): boolean {
    return OIDC_SCOPES.has(scope) || GRAPH_SCOPES.has(scope) || this.apiScope(scope) !== undefined;
  }

  /** What the consent page says a scope allows. */
  describe(scope: string): string {
    const found = this.apiScope(scope);
    if (found) return `Use ${found.api.name} as you (${found.name})`;
    return GRAPH_SCOPES.get(scope) ?? OIDC_SCOPES.get(scope) ?? scope;
  }

  /** Every way to write the API's scopes: each name under each identifier URI. */
  scopeForms(api: ApiApp, names: Iterable<string> = api.scopes): string[] {
    const list = [...names];
    return api.identifierUris.flatMap((uri) => list.map((name) => `${uri}/${name}`));
  }

  /** The Graph scopes an admin consented to for the app, for every user; none for others. */
  adminConsented(clientId: string | undefined): readonly string[] {
    return this.confidential(clientId)?.adminConsentedScopes ?? [];
  }

  /**
   * Presents a stored grant as Entra applies consent: per permission, not per spelling of
   * the identifier URI (consent to `api://<id>/Valet.Use` covers `https://…/mcp/Valet.Use`),
   * and a pre-authorized client holds the API's scopes without anyone's consent.
   */
  widenGrant(grant: GrantView): void {
    // Admin consent covers every user: the app's Graph permissions and signing them in.
    const admin = this.adminConsented(grant.clientId);
    if (admin.length > 0) {
      grant.openid = {
        ...grant.openid,
        scope: union(grant.openid?.scope, [...OIDC_SCOPES.keys()]),
      };
      grant.resources = {
        ...grant.resources,
        [GRAPH_RESOURCE]: union(grant.resources?.[GRAPH_RESOURCE], admin),
      };
    }
    for (const api of this.apis) {
      const names = new Set<string>();
      if (grant.clientId && api.preAuthorizedClients.has(grant.clientId)) {
        for (const name of api.scopes) names.add(name);
      }
      for (const uri of api.identifierUris) {
        for (const scope of words(grant.resources?.[uri])) {
          const found = this.apiScope(scope);
          if (found?.api === api) names.add(found.name);
        }
      }
      if (names.size === 0) continue;
      const forms = this.scopeForms(api, names);
      grant.resources ??= {};
      for (const uri of api.identifierUris) grant.resources[uri] = forms.join(' ');
    }
  }
}

/** The words of `scope` with `more` added, each once. */
function union(scope: string | undefined, more: readonly string[]): string {
  return [...new Set([...words(scope), ...more])].join(' ');
}
