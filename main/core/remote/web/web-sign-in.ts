import { CryptoProvider, ResponseMode } from '@azure/msal-node';
import type { Request, Response } from 'express';
import type { Logger } from '../../util/logger.ts';
import { clearCookie, readCookie, setCookie, webCookiesFor, type WebCookies } from './cookies.ts';
import { sendProblem } from './pages.ts';
import { safeReturnTo } from './return-to.ts';
import { randomToken, sameSecret, sha256Hex } from './secrets.ts';
import { SIGN_IN_TTL_MS, type SignInRequests } from './sign-in-requests.ts';
import { createWebMsal, type WebMsalConfig } from './web-msal.ts';
import type { WebSession, WebSessions } from './web-sessions.ts';

/**
 * The delegated scopes of the web sign-in: the least Graph scope, so that MSAL keeps a refresh
 * token for the user (tools ask for their own scopes later, incrementally).
 */
export const SIGN_IN_SCOPES = ['User.Read'];

/** A state, cookie or session value as we issue them: base64url of 32 bytes. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** What the web sign-in is built from. */
export interface WebSignInDeps {
  publicUrl: string;
  msal: WebMsalConfig;
  requests: SignInRequests;
  sessions: WebSessions;
  logger: Logger;
}

/**
 * The server's own Entra sign-in for its pages (consent, approvals, the user's page): auth code
 * with PKCE and a nonce, as a confidential client. The state is bound to the browser that
 * started the sign-in, and is good once. The result is a web session in the shared store; no
 * Entra token leaves the server (MSAL keeps them, sealed, in the user's cache partition).
 */
export class WebSignIn {
  readonly cookies: WebCookies;
  readonly #deps: WebSignInDeps;
  readonly #base: string;
  readonly #redirectUri: string;
  readonly #crypto = new CryptoProvider();

  constructor(deps: WebSignInDeps) {
    this.#deps = deps;
    this.cookies = webCookiesFor(deps.publicUrl);
    this.#base = new URL(deps.publicUrl).pathname.replace(/\/+$/, '');
    this.#redirectUri = `${deps.publicUrl}/auth/callback`;
  }

  /** The public URL's path, without a trailing slash: '' at a host's root. */
  get basePath(): string {
    return this.#base;
  }

  /** The path of the server's home page, under the public URL. */
  get home(): string {
    return `${this.#base}/`;
  }

  /** The path the sign-out form posts to. */
  get logoutPath(): string {
    return `${this.#base}/auth/logout`;
  }

  /** The sign-in link that comes back to `returnTo` (a same-origin path). */
  loginPath(returnTo?: string): string {
    const query = returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : '';
    return `${this.#base}/auth/login${query}`;
  }

  /** The web session of the request, slid forward; null when it has none. */
  async session(req: Request): Promise<WebSession | null> {
    const sid = readCookie(req, this.cookies.session);
    return sid && TOKEN_SHAPE.test(sid) ? this.#deps.sessions.get(sid) : null;
  }

  /** Whether a form's CSRF token is the session's. */
  csrfMatches(session: WebSession, submitted: unknown): boolean {
    return typeof submitted === 'string' && sameSecret(submitted, session.csrf);
  }

  /** `GET /auth/login`: sends the browser to the authority, remembering how to come back. */
  async login(req: Request, res: Response): Promise<void> {
    const returnTo = safeReturnTo(req.query.returnTo, this.#deps.publicUrl) ?? this.home;
    await this.#begin(req, res, { returnTo, scopes: SIGN_IN_SCOPES });
  }

  /**
   * Sends a signed-in user to the authority for more Graph scopes (incremental consent, or a
   * sign-in again for MFA), and back to `returnTo` once they are granted. Their token cache
   * then holds tokens for those scopes, which tools get silently.
   */
  async grant(req: Request, res: Response, scopes: string[], returnTo: string): Promise<void> {
    const session = await this.session(req);
    await this.#begin(req, res, {
      returnTo,
      scopes: [...new Set([...SIGN_IN_SCOPES, ...scopes])],
      ...(session?.username ? { loginHint: session.username } : {}),
    });
  }

  async #begin(
    req: Request,
    res: Response,
    how: { returnTo: string; scopes: string[]; loginHint?: string },
  ): Promise<void> {
    if (this.#deps.msal.authorityMetadata() === undefined) {
      res.set('retry-after', '10');
      sendProblem(
        res,
        503,
        'Sign-in is not available yet',
        'The server has not reached the sign-in authority yet. Try again in a moment.',
      );
      return;
    }
    // One binding per browser, kept while sign-ins are started, so two tabs do not undo each other.
    const existing = readCookie(req, this.cookies.login);
    const browser = existing && TOKEN_SHAPE.test(existing) ? existing : randomToken();
    const { verifier, challenge } = await this.#crypto.generatePkceCodes();
    const nonce = randomToken();
    const state = randomToken();
    const extra = how.scopes === SIGN_IN_SCOPES ? {} : { scopes: how.scopes };
    await this.#deps.requests.save(state, {
      verifier,
      nonce,
      binding: sha256Hex(browser),
      returnTo: how.returnTo,
      ...extra,
    });
    const url = await createWebMsal(this.#deps.msal).getAuthCodeUrl({
      scopes: how.scopes,
      redirectUri: this.#redirectUri,
      responseMode: ResponseMode.QUERY,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      nonce,
      state,
      ...(how.loginHint ? { loginHint: how.loginHint } : {}),
    });
    setCookie(res, this.cookies, this.cookies.login, browser, SIGN_IN_TTL_MS);
    res.redirect(303, url);
  }

  /** `GET /auth/callback`: redeems the code for the browser that started the sign-in. */
  async callback(req: Request, res: Response): Promise<void> {
    const again = { href: this.loginPath(), label: 'Sign in again' };
    const state = req.query.state;
    if (typeof state !== 'string' || !TOKEN_SHAPE.test(state)) {
      sendProblem(res, 400, 'Sign-in failed', 'This sign-in link is not complete.', again);
      return;
    }
    const pending = await this.#deps.requests.take(state);
    if (!pending) {
      sendProblem(
        res,
        400,
        'Sign-in failed',
        'This sign-in was already completed, or it took too long. Start again.',
        again,
      );
      return;
    }
    const browser = readCookie(req, this.cookies.login);
    if (!browser || !sameSecret(sha256Hex(browser), pending.binding)) {
      sendProblem(
        res,
        403,
        'Sign-in refused',
        'This sign-in was started in another browser. Start again here.',
        again,
      );
      return;
    }
    const error = req.query.error;
    if (typeof error === 'string') {
      sendProblem(
        res,
        400,
        'Sign-in did not complete',
        `The sign-in authority answered ${error.slice(0, 64)}.`,
        again,
      );
      return;
    }
    const code = req.query.code;
    if (typeof code !== 'string' || code === '') {
      sendProblem(res, 400, 'Sign-in failed', 'The sign-in authority sent no code.', again);
      return;
    }
    let who: Omit<WebSession, 'csrf'>;
    try {
      const result = await createWebMsal(this.#deps.msal).acquireTokenByCode({
        code,
        scopes: pending.scopes ?? SIGN_IN_SCOPES,
        redirectUri: this.#redirectUri,
        codeVerifier: pending.verifier,
        nonce: pending.nonce,
        state,
      });
      who = sessionFromResult(result);
    } catch (err) {
      // MSAL's error code names the cause; its message may quote the authority, never a token.
      const reason = (err as { errorCode?: unknown }).errorCode;
      this.#deps.logger.warn(
        `A web sign-in failed at the code redemption: ${typeof reason === 'string' && reason ? reason : (err as Error).message}`,
      );
      sendProblem(
        res,
        502,
        'Sign-in failed',
        'The sign-in authority did not accept this sign-in. Start again; if it fails again, the server log says why.',
        again,
      );
      return;
    }
    // A new session at every sign-in; one the browser held before ends (no session fixation).
    const previous = readCookie(req, this.cookies.session);
    if (previous && TOKEN_SHAPE.test(previous)) await this.#deps.sessions.delete(previous);
    const { sid } = await this.#deps.sessions.create(who);
    setCookie(res, this.cookies, this.cookies.session, sid);
    res.redirect(303, pending.returnTo);
  }

  /** `POST /auth/logout`: ends the session when the form carries its CSRF token. */
  async logout(req: Request, res: Response): Promise<void> {
    const session = await this.session(req);
    if (session) {
      const body = req.body as Record<string, unknown> | undefined;
      if (!this.csrfMatches(session, body?.csrf)) {
        sendProblem(
          res,
          403,
          'Sign-out refused',
          'This sign-out form is not from this session. Reload the page and sign out from there.',
          { href: this.home, label: 'Back' },
        );
        return;
      }
      await this.#deps.sessions.delete(readCookie(req, this.cookies.session) as string);
    }
    // The user's token cache stays: the valet keys they gave to clients still act for them.
    clearCookie(res, this.cookies, this.cookies.session);
    res.redirect(303, this.home);
  }
}

/** The session's fields from MSAL's result: the ID token's claims and the account. */
function sessionFromResult(result: {
  account: { homeAccountId: string; username: string; name?: string } | null;
  idTokenClaims: object;
}): Omit<WebSession, 'csrf'> {
  const claims = result.idTokenClaims as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const oid = text(claims.oid);
  const tid = text(claims.tid);
  if (!result.account || !oid || !tid)
    throw new Error('the ID token has no oid or tid claim, or MSAL returned no account');
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  return {
    oid,
    tid,
    homeAccountId: result.account.homeAccountId,
    name: text(claims.name) || result.account.name || '',
    username: text(claims.preferred_username) || result.account.username,
    roles,
  };
}
