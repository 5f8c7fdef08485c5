import { AuthError, InteractionRequiredAuthError } from '@azure/msal-node';
import { ValetError } from '../../util/valet-error.ts';

/** The page where a user grants Graph scopes (incremental consent, or a sign-in with MFA). */
export function grantUrl(publicUrl: string, scopes: readonly string[]): string {
  return `${publicUrl}/auth/grant?${new URLSearchParams({ scopes: scopes.join(' ') })}`;
}

/**
 * Graph cannot be called on the user's behalf until they act: consent to a scope, or sign in
 * again (MFA, Conditional Access). It names the scopes and carries the page that fixes it, for
 * the tool result (or a URL elicitation) to show the user.
 */
export class GraphGrantRequiredError extends ValetError {
  /** The Graph scopes the tool needs and the user must grant. */
  readonly scopes: string[];
  /** `<public>/auth/grant?scopes=…`: where the user goes to grant them. */
  readonly url: string;

  constructor(
    code: 'consent_required' | 'interaction_required',
    scopes: readonly string[],
    url: string,
    options?: { cause?: unknown },
  ) {
    const list = scopes.join(', ');
    super(
      code,
      code === 'consent_required'
        ? `Microsoft Graph has no consent for ${list} on your behalf: open ${url} to grant it, then call the tool again`
        : `Microsoft Graph needs you to sign in again (for example for MFA) before ${list} can be used: open ${url}, then call the tool again`,
      options,
    );
    this.name = 'GraphGrantRequiredError';
    this.scopes = [...scopes];
    this.url = url;
  }
}

/**
 * An on-behalf-of failure as an error a person can act on. Consent and interaction become a
 * GraphGrantRequiredError; anything else names MSAL's code (and Entra's AADSTS number), never
 * the IdP's whole message, which may quote request details.
 */
export function explainOnBehalfOfError(
  err: unknown,
  scopes: readonly string[],
  publicUrl: string,
): ValetError {
  if (err instanceof ValetError) return err;
  if (!(err instanceof AuthError))
    return new ValetError(
      'graph_token_failed',
      `No Microsoft Graph token could be obtained on your behalf for ${scopes.join(', ')}: the identity provider could not be reached`,
      { cause: err },
    );
  const text = `${err.errorCode} ${err.subError} ${err.errorMessage}`;
  const aadsts = /AADSTS(\d+)/.exec(err.errorMessage)?.[1];
  if (aadsts === '65001' || /consent_required/.test(text))
    return new GraphGrantRequiredError('consent_required', scopes, grantUrl(publicUrl, scopes), {
      cause: err,
    });
  if (err instanceof InteractionRequiredAuthError)
    return new GraphGrantRequiredError(
      'interaction_required',
      scopes,
      grantUrl(publicUrl, scopes),
      { cause: err },
    );
  if (aadsts === '500133')
    return new ValetError(
      'token_expired',
      'Your access token for MCP Valet expired while the call ran: let your client sign in again, then call the tool again',
      { cause: err },
    );
  return new ValetError(
    'graph_token_failed',
    `No Microsoft Graph token could be obtained on your behalf for ${scopes.join(', ')} (${err.errorCode}${aadsts ? `, AADSTS${aadsts}` : ''}): check the app registration's API permissions and credential`,
    { cause: err },
  );
}
