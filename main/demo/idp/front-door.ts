import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Provider } from 'oidc-provider';
import type { FederatedCredentials } from './federated-credentials.ts';
import { BodyTooLargeError, readBody, sendJson, withBody } from './http.ts';
import { handleInteraction } from './interactions.ts';
import type { InteractionContext } from './interactions.ts';
import type { TokenRequestRecord } from './types.ts';

/** What the front door routes between. */
export interface FrontDoorSettings {
  tenantId: string;
  /** `host:port` every URL the IdP hands out uses, whatever the client typed. */
  canonicalHost: string;
  /** The provider now serving; a key rotation replaces it. */
  provider: () => Provider;
  interactions: InteractionContext;
  tokenRequests: TokenRequestRecord[];
  /** Checks federated clients' assertions before oidc-provider sees the request. */
  federation: FederatedCredentials;
}

const TOKEN_BODY_LIMIT = 64 * 1024;
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const INTERACTION = /^\/login\/([A-Za-z0-9_-]+)(\/consent)?$/;

/**
 * Makes token requests acceptable to oidc-provider the way Entra accepts them: MSAL polls
 * with `grant_type=device_code` (not the RFC URN), and re-sends `offline_access` when it
 * redeems a refresh token, which Entra ignores and oidc-provider rejects as invalid_scope.
 */
function normalizeTokenForm(form: URLSearchParams): boolean {
  let changed = false;
  if (form.get('grant_type') === 'device_code') {
    form.set('grant_type', DEVICE_CODE_GRANT);
    changed = true;
  }
  const scope = form.get('scope');
  if (form.get('grant_type') === 'refresh_token' && scope) {
    const kept = scope.split(' ').filter((s) => s && s !== 'offline_access');
    if (kept.length === 0) form.delete('scope');
    else form.set('scope', kept.join(' '));
    changed = true;
  }
  return changed;
}

/**
 * Records a token request and makes it acceptable to oidc-provider, or answers it here when
 * a federated client's assertion is refused (then it returns undefined).
 */
async function prepareTokenRequest(
  settings: FrontDoorSettings,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<IncomingMessage | undefined> {
  const at = Date.now();
  const raw = await readBody(req, TOKEN_BODY_LIMIT);
  const isForm = (req.headers['content-type'] ?? '').startsWith(
    'application/x-www-form-urlencoded',
  );
  const form = new URLSearchParams(isForm ? raw.toString('utf8') : '');
  const clientId = form.get('client_id');
  const record: TokenRequestRecord = {
    grantType: form.get('grant_type') ?? '',
    at,
    ...(clientId ? { clientId } : {}),
  };
  settings.tokenRequests.push(record);
  const correlationId = req.headers['client-request-id'];
  const federated = await settings.federation.authenticate(
    form,
    typeof correlationId === 'string' ? correlationId : undefined,
  );
  if (federated.kind === 'refused') {
    sendJson(res, federated.status, federated.body);
    return undefined;
  }
  if (federated.kind === 'accepted') record.federatedAssertion = federated.assertion;
  const changed = normalizeTokenForm(form) || federated.kind === 'accepted';
  return withBody(req, isForm && changed ? Buffer.from(form.toString()) : raw);
}

function tenantSegment(settings: FrontDoorSettings, segment: string): string | undefined {
  const lower = segment.toLowerCase();
  if (lower === settings.tenantId.toLowerCase()) return settings.tenantId;
  if (lower === 'organizations' || lower === 'common') return lower;
  return undefined;
}

/**
 * The HTTPS request handler. It lays oidc-provider out like Entra: the first path segment
 * is the tenant (its ID, `organizations` or `common`) and becomes oidc-provider's mount
 * path, so every endpoint in discovery carries it; `/<tenant>/v2.0/.well-known/…` is the
 * discovery document; `/<tenant>/login/…` are the sign-in and consent pages.
 */
export function createFrontDoor(
  settings: FrontDoorSettings,
): (req: IncomingMessage, res: ServerResponse) => void {
  const callbacks = new WeakMap<Provider, ReturnType<Provider['callback']>>();
  function callbackOf(provider: Provider): ReturnType<Provider['callback']> {
    let callback = callbacks.get(provider);
    if (!callback) {
      callback = provider.callback();
      callbacks.set(provider, callback);
    }
    return callback;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://idp.invalid');
    const [, first = '', ...rest] = url.pathname.split('/');
    const segment = tenantSegment(settings, first);
    if (!segment) {
      sendJson(res, 400, {
        error: 'invalid_tenant',
        error_description: `AADSTS90002: Tenant '${first}' not found. Use the tenant ID ${settings.tenantId}, organizations or common.`,
      });
      return;
    }
    let path = `/${rest.join('/')}`;
    if (path === '/v2.0/.well-known/openid-configuration') {
      path = '/.well-known/openid-configuration';
    }

    const interaction = INTERACTION.exec(path);
    if (interaction?.[1]) {
      const action = req.method === 'POST' ? (interaction[2] ? 'consent' : 'sign-in') : 'show';
      await handleInteraction(settings.interactions, req, res, {
        tenantSegment: segment,
        uid: interaction[1],
        action,
      });
      return;
    }

    let forwarded: IncomingMessage | undefined = req;
    if (req.method === 'POST' && path === '/oauth2/v2.0/token') {
      forwarded = await prepareTokenRequest(settings, req, res);
      if (!forwarded) return;
    }
    // URLs in discovery and redirects are built from the Host header: pin it, so that a
    // client that came in through 127.0.0.1 still gets the issuer's host everywhere.
    forwarded.headers.host = settings.canonicalHost;
    forwarded.url = `${path}${url.search}`;
    // oidc-provider derives its mount path from originalUrl minus url, as under Express.
    Object.assign(forwarded, { originalUrl: `/${segment}${forwarded.url}` });
    await callbackOf(settings.provider())(forwarded, res);
  }

  return (req, res) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof BodyTooLargeError && !res.headersSent) {
        sendJson(res, 413, { error: 'invalid_request', error_description: error.message });
        return;
      }
      console.error('IdP request failed:', error);
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
      else res.destroy();
    });
  };
}
