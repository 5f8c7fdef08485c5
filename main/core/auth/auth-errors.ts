import { AuthError, InteractionRequiredAuthError } from '@azure/msal-node';
import type { ResolvedAuthority } from '../config/authority.ts';
import { describeError, isValetError, ValetError } from '../util/valet-error.ts';
import { diagnoseAuthority } from './authority-probe.ts';

/** What the failing call was doing, so the message can name the right fix. */
export interface AuthErrorContext {
  authority: ResolvedAuthority;
  clientId: string;
  scopes: string[];
}

const DISCOVERY_CODES = new Set([
  'endpoints_resolution_error',
  'issuer_validation_failed',
  'openid_config_error',
  'network_error',
  'untrusted_authority',
]);

/** The message for a scope that needs (new) consent. */
export function consentMessage(scopes: string[]): string {
  const list = scopes.join(', ');
  return `${list} has not been consented: run \`mcp-valet login --scopes ${scopes.join(',')}\` or approve it in the app`;
}

/**
 * Turns an MSAL (or network) error into a ValetError whose message a person can act on.
 * Discovery failures are diagnosed by probing the authority, because MSAL hides the cause.
 */
export async function explainAuthError(err: unknown, ctx: AuthErrorContext): Promise<ValetError> {
  if (isValetError(err)) return err;
  if (!(err instanceof AuthError)) {
    return new ValetError('sign_in_failed', `Sign-in failed: ${describeError(err)}`, {
      cause: err,
    });
  }
  const code = err.errorCode;
  const text = `${code} ${err.subError ?? ''} ${err.errorMessage ?? ''}`;
  const aadsts = /AADSTS(\d+)/.exec(err.errorMessage ?? '')?.[1];
  if (DISCOVERY_CODES.has(code)) {
    const cause = await diagnoseAuthority(ctx.authority);
    return new ValetError(
      'authority_unavailable',
      `Cannot use the authority ${ctx.authority.url}: ${cause}`,
      { cause: err },
    );
  }
  if (code === 'user_canceled' || code === 'access_denied' || aadsts === '65004') {
    return new ValetError(
      'cancelled',
      'Sign-in was cancelled or consent was declined: run the sign-in again and accept to continue',
      { cause: err },
    );
  }
  if (aadsts === '700016' || code === 'unauthorized_client') {
    return new ValetError(
      'app_not_found',
      `The app ${ctx.clientId} is not registered in tenant ${ctx.authority.tenant}, or may not be used there: check VALET_CLIENT_ID and VALET_TENANT_ID`,
      { cause: err },
    );
  }
  if (aadsts === '7000218' || aadsts === '7000215' || code === 'invalid_client') {
    return new ValetError(
      'public_client_disabled',
      `The app ${ctx.clientId} does not allow public client sign-in: turn on "Allow public client flows" under Authentication in its Entra app registration`,
      { cause: err },
    );
  }
  if (aadsts === '50011' || aadsts === '500113') {
    return new ValetError(
      'redirect_uri_mismatch',
      'The app registration has no matching redirect URI: add http://localhost under "Mobile and desktop applications" (see the README, "Register the app")',
      { cause: err },
    );
  }
  if (aadsts === '65001' || /consent_required/.test(text)) {
    return new ValetError('consent_required', consentMessage(ctx.scopes), { cause: err });
  }
  if (code === 'expired_token' || aadsts === '70020') {
    return new ValetError(
      'device_code_expired',
      'The device code expired before sign-in finished: run `mcp-valet login --device-code` again and complete it sooner',
      { cause: err },
    );
  }
  if (code === 'invalid_scope' || aadsts === '70011') {
    return new ValetError(
      'invalid_scope',
      `The identity provider refused the scopes ${ctx.scopes.join(', ')}: check the API permissions of the app registration`,
      { cause: err },
    );
  }
  if (err instanceof InteractionRequiredAuthError) {
    return new ValetError(
      'interaction_required',
      'Your sign-in has expired or was revoked: run `mcp-valet login` or sign in from the app',
      { cause: err },
    );
  }
  const detail = (err.errorMessage || code)
    .split(/\r?\n/)[0]
    ?.replace(/Trace ID:.*$/i, '')
    .trim();
  return new ValetError('sign_in_failed', `Sign-in failed (${code}): ${detail}`, { cause: err });
}
