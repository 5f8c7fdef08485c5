import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { clientInfo } from './claims.ts';
import { isKnownScope } from './directory.ts';

type Body = Record<string, unknown>;

/** How device code responses are worded and paced. */
export interface DeviceCodeSettings {
  intervalSeconds: number;
}

function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value);
}

function paramOf(ctx: KoaContextWithOIDC, name: string): string | undefined {
  const value: unknown = ctx.oidc.params?.[name];
  return typeof value === 'string' ? value : undefined;
}

function entraError(ctx: KoaContextWithOIDC, body: Body, code: number): void {
  body.error_codes = [code];
  body.timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  const correlationId = ctx.get('client-request-id');
  if (correlationId) body.correlation_id = correlationId;
}

/**
 * Rewrites token endpoint errors of the refresh grant the way Entra words them, because
 * MSAL decides on `suberror` whether an error needs interaction:
 * - a refresh token that is gone (revoked, expired) → invalid_grant + bad_token, which MSAL
 *   turns into InteractionRequiredAuthError and drops the token from its cache;
 * - a known scope without consent → invalid_grant + consent_required (AADSTS65001);
 * - an unknown scope stays invalid_scope (AADSTS70011).
 */
function rewriteRefreshError(ctx: KoaContextWithOIDC, body: Body): void {
  if (body.error === 'invalid_grant') {
    body.suberror = 'bad_token';
    body.error_description = `AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. (${String(body.error_description ?? '')})`;
    entraError(ctx, body, 50173);
    return;
  }
  if (body.error === 'invalid_scope') {
    const scopes = (paramOf(ctx, 'scope') ?? '').split(' ').filter(Boolean);
    const unknown = scopes.filter((scope) => !isKnownScope(scope));
    if (unknown.length > 0) {
      body.error_description = `AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope '${unknown.join(' ')}' does not exist.`;
      entraError(ctx, body, 70011);
      return;
    }
    body.error = 'invalid_grant';
    body.suberror = 'consent_required';
    body.error_description = `AADSTS65001: The user or administrator has not consented to use the application with ID '${paramOf(ctx, 'client_id') ?? ''}'. Send an interactive authorization request for this user and resource.`;
    entraError(ctx, body, 65001);
  }
}

function decorateTokenResponse(ctx: KoaContextWithOIDC, tenantId: string): void {
  const body: unknown = ctx.body;
  if (!isBody(body)) return;
  if (ctx.status === 200 && typeof body.access_token === 'string') {
    const accountId = ctx.oidc.entities.Account?.accountId;
    if (accountId) body.client_info = clientInfo(accountId, tenantId);
    if (typeof body.expires_in === 'number') body.ext_expires_in = body.expires_in;
    return;
  }
  if (typeof body.error === 'string' && paramOf(ctx, 'grant_type') === 'refresh_token') {
    rewriteRefreshError(ctx, body);
  }
}

/** Makes oidc-provider's responses look like Entra's where MSAL depends on the difference. */
export function installEntraResponses(
  provider: Provider,
  tenantId: string,
  device: DeviceCodeSettings,
): void {
  provider.use(async (ctx, next) => {
    await next();
    // ctx.oidc exists only when one of oidc-provider's routes matched.
    const route = (ctx as Partial<KoaContextWithOIDC>).oidc?.route;
    if (route === 'token') decorateTokenResponse(ctx as KoaContextWithOIDC, tenantId);
  });

  provider.on('device_authorization.success', (_ctx, body) => {
    // MSAL has no default poll interval: without one it polls in a tight loop.
    body.interval = device.intervalSeconds;
    body.message = `To sign in, use a web browser to open the page ${String(body.verification_uri)} and enter the code ${String(body.user_code)} to authenticate.`;
  });
}
