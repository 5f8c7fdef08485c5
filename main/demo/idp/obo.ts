import { createLocalJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { errors } from 'oidc-provider';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { AppDirectory } from './apps.ts';
import { accountFor } from './claims.ts';
import { JWT_BEARER_GRANT } from './client-auth.ts';
import { GRAPH_RESOURCE, GRAPH_SCOPES, OIDC_SCOPES } from './directory.ts';
import type { SigningKeys } from './signing-keys.ts';
import type { MemoryStore } from './store.ts';
import type { UserDirectory } from './users.ts';

/** What the on-behalf-of grant needs from the rest of the IdP. */
export interface OnBehalfOfSettings {
  tenantId: string;
  /** The v2.0 issuer; v1 tokens come from `https://sts.windows.net/<tid>/`. */
  issuer: string;
  apps: AppDirectory;
  users: UserDirectory;
  store: MemoryStore;
  keys: SigningKeys;
  accessTokenTtl: () => number;
}

/** An error worded as Entra words it; `entra-responses.ts` adds the codes and `suberror`. */
function entraError(error: string, description: string, status = 400): Error {
  const failure = new errors.CustomOIDCProviderError(error, description);
  return Object.assign(failure, { status, statusCode: status });
}

function words(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
}

interface AskedScopes {
  /** Graph scope names (`Mail.Send`). */
  names: string[];
  /** Whether `.default` was asked: every scope consented for the app. */
  asDefault: boolean;
  /** The Graph scopes as the client wrote them, for the response's `scope`. */
  written: string[];
}

/** Graph scopes of an OBO request, short (`User.Read`) or full (`https://graph.microsoft.com/User.Read`). */
function graphScopes(scope: unknown): AskedScopes {
  const asked: AskedScopes = { names: [], asDefault: false, written: [] };
  const unknown: string[] = [];
  for (const written of words(scope)) {
    if (OIDC_SCOPES.has(written)) continue;
    const name = written.startsWith(`${GRAPH_RESOURCE}/`)
      ? written.slice(GRAPH_RESOURCE.length + 1)
      : written;
    if (name === '.default') asked.asDefault = true;
    else if (GRAPH_SCOPES.has(name)) asked.names.push(name);
    else {
      unknown.push(written);
      continue;
    }
    asked.written.push(written);
  }
  if (unknown.length > 0) {
    throw new errors.InvalidScope(
      `AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope '${unknown.join(' ')}' does not exist.`,
      unknown.join(' '),
    );
  }
  if (asked.written.length === 0) {
    throw new errors.InvalidRequest(
      "AADSTS900144: The request body must contain the following parameter: 'scope'.",
    );
  }
  return asked;
}

async function verifyAssertion(
  settings: OnBehalfOfSettings,
  assertion: string,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(assertion, createLocalJWKSet(settings.keys.publicJwks), {
      issuer: [settings.issuer, `https://sts.windows.net/${settings.tenantId}/`],
      algorithms: ['RS256'],
    });
    return payload;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) {
      throw entraError(
        'invalid_grant',
        'AADSTS500133: Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token.',
      );
    }
    throw entraError(
      'invalid_grant',
      'AADSTS50013: Assertion failed signature validation. [Reason - The key was not found or the issuer is not this tenant.]',
    );
  }
}

/**
 * Entra's on-behalf-of flow: a confidential client (the middle tier) trades a user's access
 * token for its own API for a Graph token of the same user, as far as the user (or an
 * admin) consented to Graph for the middle tier. The Graph token names the middle tier in
 * `azp`/`appid`, never the app that called it.
 */
export function registerOnBehalfOf(provider: Provider, settings: OnBehalfOfSettings): void {
  const { apps, users, store, tenantId } = settings;

  // Admin consent covers users who never signed in to the middle tier; record it as their grant.
  async function adminGrant(
    accountId: string,
    clientId: string,
    scopes: ReadonlySet<string>,
  ): Promise<string> {
    const recorded = new provider.Grant({ accountId, clientId });
    recorded.addResourceScope(GRAPH_RESOURCE, [...scopes].join(' '));
    return recorded.save();
  }

  async function grant(ctx: KoaContextWithOIDC): Promise<void> {
    const { client, params } = ctx.oidc;
    const registered = apps.confidential(client?.clientId);
    if (!client || !registered) {
      throw entraError(
        'invalid_client',
        "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        401,
      );
    }
    if (params?.requested_token_use !== 'on_behalf_of') {
      throw new errors.InvalidRequest(
        "AADSTS900144: The request body must contain the following parameter: 'requested_token_use' with the value 'on_behalf_of'.",
      );
    }
    const assertion = params.assertion;
    if (typeof assertion !== 'string' || !assertion) {
      throw new errors.InvalidRequest(
        "AADSTS900144: The request body must contain the following parameter: 'assertion'.",
      );
    }
    const asked = graphScopes(params.scope);
    const claims = await verifyAssertion(settings, assertion);

    const audiences = [
      client.clientId,
      ...(apps.apiByAppId(client.clientId)?.identifierUris ?? []),
    ];
    const aud = typeof claims.aud === 'string' ? claims.aud : String(claims.aud ?? '');
    if (!audiences.includes(aud)) {
      throw entraError(
        'invalid_grant',
        `AADSTS50013: Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${aud}' and the expected audience is '${client.clientId}' or one of the Application Id URIs of this application.`,
      );
    }
    const user = claims.tid === tenantId ? users.byId(String(claims.oid ?? '')) : undefined;
    if (!user) {
      throw entraError(
        'invalid_grant',
        'AADSTS50013: Assertion is not for a user of this tenant (no matching tid and oid).',
      );
    }

    const grantId = store.grantIdFor(user.id, client.clientId);
    const userGrant = grantId ? await provider.Grant.find(grantId) : undefined;
    const consented = new Set([
      ...(registered.adminConsentedScopes ?? []),
      ...words(userGrant?.getResourceScope(GRAPH_RESOURCE)),
    ]);
    const effective = new Set(asked.asDefault ? [...consented, ...asked.names] : asked.names);
    const missing = [...effective].filter((name) => !consented.has(name));
    if (missing.length > 0 || effective.size === 0) {
      throw entraError(
        'invalid_grant',
        `AADSTS65001: The user or administrator has not consented to use the application with ID '${client.clientId}' named '${apps.clientName(client.clientId)}'. Send an interactive authorization request for this user and resource.`,
      );
    }

    ctx.oidc.entity('Account', accountFor(user, tenantId));
    const token = new provider.AccessToken({
      accountId: user.id,
      client,
      grantId: grantId ?? (await adminGrant(user.id, client.clientId, effective)),
      gty: JWT_BEARER_GRANT,
      scope: [...effective].join(' '),
    });
    token.resourceServer = new provider.ResourceServer(GRAPH_RESOURCE, {
      scope: [...GRAPH_SCOPES.keys()].join(' '),
      audience: GRAPH_RESOURCE,
      accessTokenTTL: settings.accessTokenTtl(),
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'RS256' } },
    });
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();
    const written = asked.asDefault ? [...asked.written, ...effective] : asked.written;
    ctx.body = {
      token_type: 'Bearer',
      access_token: value,
      expires_in: token.expiration,
      scope: [...new Set(written)].join(' '),
    };
  }

  provider.registerGrantType(JWT_BEARER_GRANT, grant, [
    'assertion',
    'requested_token_use',
    'scope',
  ]);
}
