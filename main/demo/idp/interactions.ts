import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Provider } from 'oidc-provider';
import type { AppDirectory } from './apps.ts';
import { readBody, sendHtml } from './http.ts';
import { consentPage, errorPage, signInPage } from './pages.ts';
import type { UserDirectory } from './users.ts';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** What the sign-in and consent pages need from the rest of the IdP. */
export interface InteractionContext {
  /** The provider now serving (a new one after a signing key rotation). */
  readonly provider: Provider;
  users: UserDirectory;
  apps: AppDirectory;
}

const FORM_LIMIT = 16 * 1024;

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * The permissions the consent page lists: what the request wants and the grant lacks, or,
 * when the app forces the page with prompt=consent, everything it asks for.
 */
function scopesToList(interaction: Interaction): string[] {
  const { details } = interaction.prompt;
  const resources = (details.missingResourceScopes ?? {}) as Record<string, unknown>;
  const missing = [
    ...stringList(details.missingOIDCScope),
    ...Object.values(resources).flatMap(stringList),
  ];
  const requested =
    typeof interaction.params.scope === 'string' ? interaction.params.scope.split(' ') : [];
  return [...new Set(missing.length > 0 ? missing : requested.filter(Boolean))];
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams((await readBody(req, FORM_LIMIT)).toString('utf8'));
}

async function grantConsent(
  context: InteractionContext,
  interaction: Interaction,
): Promise<string> {
  const { provider } = context;
  const { details } = interaction.prompt;
  const accountId = interaction.session?.accountId;
  const clientId = interaction.params.client_id;
  if (!accountId || typeof clientId !== 'string')
    throw new Error('The interaction has no signed-in user or client.');
  const grant =
    (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined) ??
    new provider.Grant({ accountId, clientId });
  const oidcScopes = stringList(details.missingOIDCScope);
  if (oidcScopes.length > 0) grant.addOIDCScope(oidcScopes.join(' '));
  const claims = stringList(details.missingOIDCClaims);
  if (claims.length > 0) grant.addOIDCClaims(claims);
  const resources = (details.missingResourceScopes ?? {}) as Record<string, unknown>;
  for (const [resource, scopes] of Object.entries(resources)) {
    grant.addResourceScope(resource, stringList(scopes).join(' '));
  }
  return grant.save();
}

/**
 * Serves `/<tenant>/login/<uid>`: the sign-in page for the `login` and `select_account`
 * prompts and the consent page for `consent`; POSTs to `…/<uid>` sign in, POSTs to
 * `…/<uid>/consent` accept or cancel.
 */
export async function handleInteraction(
  context: InteractionContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: { tenantSegment: string; uid: string; action: 'show' | 'sign-in' | 'consent' },
): Promise<void> {
  const { provider, users, apps } = context;
  let interaction: Interaction;
  try {
    interaction = await provider.interactionDetails(req, res);
  } catch {
    // No interaction cookie: an old tab, another browser, or an expired sign-in.
    sendHtml(
      res,
      400,
      errorPage('Your sign-in session has expired.', 'Go back to the app and sign in again.'),
    );
    return;
  }
  if (interaction.uid !== route.uid) {
    sendHtml(
      res,
      400,
      errorPage('This sign-in page is out of date.', 'Go back to the app and sign in again.'),
    );
    return;
  }

  const base = `/${route.tenantSegment}/login/${interaction.uid}`;
  const clientId =
    typeof interaction.params.client_id === 'string' ? interaction.params.client_id : '';
  const appName = apps.clientName(clientId);
  // oidc-provider checked it against the client's registered redirect URIs.
  const redirectUri = interaction.params.redirect_uri;
  const redirectOrigin =
    typeof redirectUri === 'string' ? URL.parse(redirectUri)?.origin : undefined;
  const loginHint =
    typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : undefined;

  if (route.action === 'sign-in') {
    const form = await readForm(req);
    const username = form.get('username') ?? '';
    const user = users.authenticate(username, form.get('password') ?? '');
    if (!user) {
      const error = 'Your account or password is incorrect.';
      sendHtml(res, 200, signInPage({ action: base, appName, username, error }), redirectOrigin);
      return;
    }
    // `select_account` is a prompt of its own; the result must answer it too, or the
    // authorization endpoint would ask again.
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.id }, select_account: {} },
      { mergeWithLastSubmission: false },
    );
    return;
  }

  if (route.action === 'consent') {
    const form = await readForm(req);
    if (form.get('decision') !== 'accept') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'AADSTS65004: User declined to consent to access the app.',
      });
      return;
    }
    const grantId = await grantConsent(context, interaction);
    await provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
    return;
  }

  if (interaction.prompt.name === 'consent') {
    const user = users.byId(interaction.session?.accountId ?? '');
    sendHtml(
      res,
      200,
      consentPage({
        action: `${base}/consent`,
        appName,
        username: user?.username ?? '',
        items: scopesToList(interaction).map((scope) => ({
          scope,
          description: apps.describe(scope),
        })),
      }),
      redirectOrigin,
    );
    return;
  }
  sendHtml(res, 200, signInPage({ action: base, appName, username: loginHint }), redirectOrigin);
}
