import { decodeProtectedHeader } from 'jose';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { AppDirectory } from './apps.ts';
import { clientInfo } from './claims.ts';
import { unknownCertificateMessage } from './client-auth.ts';
import type { CertificateKey } from './client-auth.ts';

type Body = Record<string, unknown>;

/** How device code responses are worded and paced. */
export interface DeviceCodeSettings {
  intervalSeconds: number;
}

/** What the error wording needs to know about the tenant's apps. */
export interface ResponseSettings {
  tenantId: string;
  apps: AppDirectory;
  certificateKeys: ReadonlyMap<string, readonly CertificateKey[]>;
  device: DeviceCodeSettings;
}

function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value);
}

function paramOf(ctx: KoaContextWithOIDC, name: string): string | undefined {
  const value: unknown = ctx.oidc.params?.[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Adds what Entra puts next to every error: its code, a timestamp, and the client's
 * correlation ID (MSAL sends `client-request-id`) when there is one.
 */
export function addEntraErrorFields(body: Body, code: number, correlationId?: string): void {
  body.error_codes = [code];
  body.timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  if (correlationId) body.correlation_id = correlationId;
}

function entraError(ctx: KoaContextWithOIDC, body: Body, code: number): void {
  addEntraErrorFields(body, code, ctx.get('client-request-id'));
}

/**
 * Rewrites token endpoint errors of the refresh grant the way Entra words them, because
 * MSAL decides on `suberror` whether an error needs interaction:
 * - a refresh token that is gone (revoked, expired) → invalid_grant + bad_token, which MSAL
 *   turns into InteractionRequiredAuthError and drops the token from its cache;
 * - a known scope without consent → invalid_grant + consent_required (AADSTS65001);
 * - an unknown scope stays invalid_scope (AADSTS70011).
 */
function rewriteRefreshError(ctx: KoaContextWithOIDC, body: Body, apps: AppDirectory): void {
  if (body.error === 'invalid_grant') {
    body.suberror = 'bad_token';
    body.error_description = `AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. (${String(body.error_description ?? '')})`;
    entraError(ctx, body, 50173);
    return;
  }
  if (body.error === 'invalid_scope') {
    const scopes = (paramOf(ctx, 'scope') ?? '').split(' ').filter(Boolean);
    const unknown = scopes.filter((scope) => !apps.isKnownScope(scope));
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

/** Entra's wording when a client secret does not match any of the app's secrets. */
export function invalidSecretMessage(clientId: string): string {
  return `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`;
}

function assertionThumbprint(assertion: string): string {
  try {
    const thumbprint = decodeProtectedHeader(assertion)['x5t#S256'];
    return typeof thumbprint === 'string' ? thumbprint : '';
  } catch {
    return '';
  }
}

/**
 * Says why a client failed to authenticate, in Entra's words: oidc-provider answers
 * every case with "client authentication failed". Nothing of the credential is echoed
 * but a certificate thumbprint, which is public.
 */
function rewriteClientError(ctx: KoaContextWithOIDC, body: Body, settings: ResponseSettings): void {
  const clientId = paramOf(ctx, 'client_id') ?? ctx.oidc.client?.clientId ?? '';
  const assertion = paramOf(ctx, 'client_assertion');
  let code: number;
  if (!ctx.oidc.client) {
    code = 700016;
    body.error_description = `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${settings.tenantId}'.`;
  } else if (paramOf(ctx, 'client_secret') !== undefined) {
    code = 7000215;
    body.error_description = invalidSecretMessage(clientId);
  } else if (assertion !== undefined) {
    const thumbprint = assertionThumbprint(assertion);
    const known = settings.certificateKeys.get(clientId)?.some((k) => k.thumbprint === thumbprint);
    code = 700027;
    body.error_description = known
      ? 'AADSTS700027: Client assertion failed signature validation.'
      : unknownCertificateMessage(clientId, thumbprint);
  } else if (settings.apps.confidential(clientId)) {
    code = 7000218;
    body.error_description =
      "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.";
  } else return;
  entraError(ctx, body, code);
}

/** Adds Entra's error codes, and the `suberror` MSAL reads, to an error worded `AADSTS…`. */
function addErrorCodes(ctx: KoaContextWithOIDC, body: Body): void {
  const code = /^AADSTS(\d+):/.exec(String(body.error_description ?? ''))?.[1];
  if (!code) return;
  if (code === '65001') body.suberror = 'consent_required';
  entraError(ctx, body, Number(code));
}

function decorateTokenResponse(ctx: KoaContextWithOIDC, settings: ResponseSettings): void {
  const body: unknown = ctx.body;
  if (!isBody(body)) return;
  if (ctx.status === 200 && typeof body.access_token === 'string') {
    const accountId = ctx.oidc.entities.Account?.accountId;
    if (accountId) body.client_info = clientInfo(accountId, settings.tenantId);
    if (typeof body.expires_in === 'number') body.ext_expires_in = body.expires_in;
    return;
  }
  if (typeof body.error !== 'string') return;
  if (
    body.error === 'invalid_client' &&
    body.error_description === 'client authentication failed'
  ) {
    rewriteClientError(ctx, body, settings);
  } else if (
    paramOf(ctx, 'grant_type') === 'refresh_token' &&
    !String(body.error_description ?? '').startsWith('AADSTS')
  ) {
    rewriteRefreshError(ctx, body, settings.apps);
  } else {
    addErrorCodes(ctx, body);
  }
}

/** Makes oidc-provider's responses look like Entra's where MSAL depends on the difference. */
export function installEntraResponses(provider: Provider, settings: ResponseSettings): void {
  provider.use(async (ctx, next) => {
    await next();
    // ctx.oidc exists only when one of oidc-provider's routes matched.
    const route = (ctx as Partial<KoaContextWithOIDC>).oidc?.route;
    if (route === 'token') decorateTokenResponse(ctx as KoaContextWithOIDC, settings);
  });

  provider.on('device_authorization.success', (_ctx, body) => {
    // MSAL has no default poll interval: without one it polls in a tight loop.
    body.interval = settings.device.intervalSeconds;
    body.message = `To sign in, use a web browser to open the page ${String(body.verification_uri)} and enter the code ${String(body.user_code)} to authenticate.`;
  });
}
