import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Response, type Router } from 'express';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import { READ_TOOLS, TOOL_NAMES, type ToolName } from '../../mcp/tool-definition.ts';
import { toolByName } from '../../mcp/tools/index.ts';
import { describeError } from '../../util/valet-error.ts';
import type { Logger } from '../../util/logger.ts';
import type { SharedStore } from '../store/shared-store.ts';
import { escapeHtml } from '../web/pages.ts';
import { renderConsentPage, type ConsentView } from './consent-page.ts';
import { sha256Hex } from './opaque-token.ts';
import type { PendingRequest, PendingRequests } from './pending-requests.ts';
import { allLoopback, redirectTarget } from './redirect-uris.ts';
import type { RemoteKey, RemoteKeys } from './remote-keys.ts';
import { scopesForTools, toolsForScopes } from './scopes.ts';
import type { ValetTokens } from './valet-tokens.ts';
import type { CurrentUser, WebUser } from './web-user.ts';

/** How the consent router is made. */
export interface ConsentRouterOptions {
  store: SharedStore;
  pending: PendingRequests;
  clientsStore: OAuthRegisteredClientsStore;
  keys: RemoteKeys;
  tokens: ValetTokens;
  currentUser: CurrentUser;
  /** The authorization server's issuer, sent back as `iss` (RFC 9207). */
  issuer: string;
  consentTtlDays: number;
  /**
   * The web sign-in's link that comes back to `returnTo` (a path under the public URL). By
   * default the one the web sign-in writes for the issuer's path.
   */
  loginPath?: (returnTo: string) => string;
  logger: Logger;
  now?: () => number;
}

/** What `consent:{oid}:{sha256(client_id)}` holds: the last answer of this user to this client. */
interface ConsentRecord {
  keyId: string;
  tools: ToolName[];
  readOnly: boolean;
}

/**
 * GET and POST `/consent/{id}`: the page where the signed-in user lets a client act as them with
 * the tools they pick. Allow makes (or, for the same user and client, reuses) the valet key that
 * the client's token family acts as, mints the code and sends the browser back to the client
 * with `code`, `state` and `iss`; Deny sends `error=access_denied`. Only a post carrying the
 * session's CSRF token counts, and a request is answered once.
 */
export function consentRouter(options: ConsentRouterOptions): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 });

  router.get('/consent/:id', async (req, res) => {
    secureHeaders(res);
    const user = await options.currentUser(req);
    if (!user) return toLogin(res, options, req.params.id);
    const pending = await options.pending.peek(req.params.id);
    if (!pending) return expired(res);
    const client = await clientOf(options, pending, res);
    if (!client) return;
    const prior = await priorConsent(options, user, pending.clientId);
    sendPage(
      res,
      200,
      view(consentPath(options, req.params.id), user, pending, client, prior),
      pending,
    );
  });

  router.post('/consent/:id', form, async (req, res) => {
    secureHeaders(res);
    const user = await options.currentUser(req);
    if (!user) return toLogin(res, options, req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!csrfMatches(body.csrf, user.csrf)) {
      res
        .status(403)
        .type('html')
        .send(
          message(
            'This form has expired or did not come from MCP Valet. Go back to your client and start again.',
          ),
        );
      return;
    }
    const pending = await options.pending.peek(req.params.id);
    if (!pending) return expired(res);
    const client = await clientOf(options, pending, res);
    if (!client) return;
    if (body.decision !== 'allow') {
      if (!(await options.pending.take(req.params.id))) return expired(res);
      return back(res, options, pending, {
        error: 'access_denied',
        error_description: 'The user denied access',
      });
    }
    const readOnly = body.readOnly !== undefined;
    const picked = chosenTools(body.tools).filter((t) => !readOnly || READ_TOOLS.includes(t));
    if (picked.length === 0) {
      const prior = await priorConsent(options, user, pending.clientId);
      const again = view(consentPath(options, req.params.id), user, pending, client, prior);
      again.notice = 'Pick at least one tool, or deny.';
      return sendPage(res, 400, again, pending);
    }
    if (!(await options.pending.take(req.params.id))) return expired(res);
    const key = await grantKey(options, user, client, picked, readOnly);
    const code = await options.tokens.mintCode({
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      codeChallenge: pending.codeChallenge,
      resource: pending.resource,
      keyId: key.id,
      scopes: scopesForTools(key.tools),
    });
    return back(res, options, pending, { code });
  });

  return router;
}

function view(
  page: { action: string },
  user: WebUser,
  pending: PendingRequest,
  client: OAuthClientInformationFull,
  prior: ConsentRecord | undefined,
): ConsentView {
  const requested = new Set(toolsForScopes(pending.scopes));
  return {
    ...page,
    csrf: user.csrf,
    clientName: client.client_name ?? client.client_id,
    clientId: client.client_id,
    redirectHost: redirectTarget(pending.redirectUri),
    localhostOnly: allLoopback(client.redirect_uris),
    tools: TOOL_NAMES.map((name) => {
      const kind = READ_TOOLS.includes(name) ? 'read' : 'write';
      const before = prior?.tools.includes(name) ?? false;
      // Read tools start checked; a write tool only when granted before or asked for by scope.
      const checked = kind === 'read' ? !prior || before : before || requested.has(name);
      return {
        name,
        title: toolByName(name)?.title ?? name,
        kind,
        checked,
        requested: requested.has(name) && !before && kind === 'write',
      };
    }),
    readOnly: prior?.readOnly ?? false,
    account: { name: user.name, username: user.username },
    styleNonce: randomBytes(16).toString('base64'),
  };
}

function sendPage(res: Response, status: number, page: ConsentView, pending: PendingRequest): void {
  // Chrome applies form-action to the redirect that answers the post: allow the client's origin.
  const back = new URL(pending.redirectUri).origin;
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'nonce-${page.styleNonce}'; form-action 'self' ${back}; frame-ancestors 'none'; base-uri 'none'`,
  );
  res.status(status).type('html').send(renderConsentPage(page));
}

async function clientOf(
  options: ConsentRouterOptions,
  pending: PendingRequest,
  res: Response,
): Promise<OAuthClientInformationFull | undefined> {
  try {
    const client = await options.clientsStore.getClient(pending.clientId);
    if (client) return client;
    res
      .status(400)
      .type('html')
      .send(
        message('This client is no longer registered. Go back to your client and connect again.'),
      );
  } catch (err) {
    res
      .status(400)
      .type('html')
      .send(message(describeError(err)));
  }
  return undefined;
}

async function priorConsent(
  options: ConsentRouterOptions,
  user: WebUser,
  clientId: string,
): Promise<ConsentRecord | undefined> {
  const fields = await options.store.hGetAll(consentKey(user, clientId));
  if (!fields.keyId) return undefined;
  const listed: unknown = JSON.parse(fields.tools ?? '[]');
  const tools = TOOL_NAMES.filter((t) => Array.isArray(listed) && listed.includes(t));
  return { keyId: fields.keyId, tools, readOnly: fields.readOnly === 'true' };
}

/** The key this user already gave this client, updated to the new choice, or a new one. */
async function grantKey(
  options: ConsentRouterOptions,
  user: WebUser,
  client: OAuthClientInformationFull,
  tools: ToolName[],
  readOnly: boolean,
): Promise<RemoteKey> {
  const name = client.client_name ?? client.client_id;
  const prior = await priorConsent(options, user, client.client_id);
  const existing = prior ? await options.keys.get(prior.keyId) : undefined;
  let key: RemoteKey;
  if (
    existing &&
    !existing.revokedAt &&
    existing.oid === user.oid &&
    existing.clientId === client.client_id
  ) {
    await options.keys.update(existing.id, { tools, readOnly, name });
    key = { ...existing, tools, readOnly, name };
  } else {
    key = await options.keys.create({
      name,
      clientId: client.client_id,
      oid: user.oid,
      tid: user.tid,
      homeAccountId: user.homeAccountId,
      username: user.username,
      tools,
      readOnly,
    });
  }
  const now = options.now ?? Date.now;
  await options.store.hSet(
    consentKey(user, client.client_id),
    {
      keyId: key.id,
      tools: JSON.stringify(tools),
      readOnly: String(readOnly),
      username: user.username,
      redirectHost: client.redirect_uris.map(redirectTarget).join(' '),
      at: new Date(now()).toISOString(),
    },
    { ttlMs: options.consentTtlDays * 24 * 60 * 60 * 1000 },
  );
  options.logger.info(
    `Valet key ${key.id} granted to client ${client.client_id} with ${tools.join(',')}.`,
  );
  return key;
}

function consentKey(user: WebUser, clientId: string): string {
  return `consent:${user.oid}:${sha256Hex(clientId)}`;
}

function chosenTools(value: unknown): ToolName[] {
  const list = Array.isArray(value) ? value : [value];
  return TOOL_NAMES.filter((t) => list.includes(t));
}

function csrfMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given.length === 0 || expected.length === 0) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Back to the client's redirect URI with the answer, `state` and `iss`. */
function back(
  res: Response,
  options: ConsentRouterOptions,
  pending: PendingRequest,
  answer: Record<string, string>,
): void {
  const url = new URL(pending.redirectUri);
  for (const [name, value] of Object.entries(answer)) url.searchParams.set(name, value);
  if (pending.state !== undefined) url.searchParams.set('state', pending.state);
  url.searchParams.set('iss', options.issuer);
  res.redirect(303, url.href);
}

function secureHeaders(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('X-Frame-Options', 'DENY');
  // Not no-referrer: under it Chrome posts the consent form with `Origin: null`, which the
  // server's Origin check refuses. Same-origin still sends nothing to the client's site.
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

/**
 * To the web sign-in, and back to this consent page afterwards. Both paths are under the
 * public URL's path, so a server published at `https://host/valet` sends the browser to
 * `/valet/auth/login?returnTo=/valet/consent/…`.
 */
function toLogin(res: Response, options: ConsentRouterOptions, id: string): void {
  const base = basePath(options);
  const returnTo = consentPath(options, id).action;
  const loginPath =
    options.loginPath ?? ((to: string) => `${base}/auth/login?returnTo=${encodeURIComponent(to)}`);
  res.redirect(302, loginPath(returnTo));
}

/** The public URL's path, without a trailing slash: '' at a host's root. */
function basePath(options: ConsentRouterOptions): string {
  return new URL(options.issuer).pathname.replace(/\/+$/, '');
}

/** The path of request `id`'s consent page under the public URL, where its form posts. */
function consentPath(options: ConsentRouterOptions, id: string): { action: string } {
  return { action: `${basePath(options)}/consent/${encodeURIComponent(id)}` };
}

function expired(res: Response): void {
  res
    .status(404)
    .type('html')
    .send(
      message(
        'This request has expired or was already answered. Go back to your client and connect again.',
      ),
    );
}

function message(text: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>MCP Valet</title></head><body><main><p id="message">${escapeHtml(text)}</p></main></body></html>\n`;
}
