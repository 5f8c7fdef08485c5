import express, { Router } from 'express';
import { MAX_BODY_BYTES } from '../server/guards.ts';
import { escapeHtml, sendPage } from './pages.ts';
import type { WebSignIn } from './web-sign-in.ts';

/** `/auth/login`, `/auth/callback` and `/auth/logout`, the web sign-in's routes. */
export function signInRoutes(signIn: WebSignIn): Router {
  const router = Router();
  router.get('/auth/login', (req, res) => signIn.login(req, res));
  router.get('/auth/callback', (req, res) => signIn.callback(req, res));
  router.post(
    '/auth/logout',
    express.urlencoded({ extended: false, limit: MAX_BODY_BYTES, parameterLimit: 10 }),
    (req, res) => signIn.logout(req, res),
  );
  return router;
}

/** `GET /`: who is signed in, with a sign-out form; or a link to sign in. */
export function homeRoutes(signIn: WebSignIn): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const session = await signIn.session(req);
    if (!session) {
      sendPage(
        res,
        200,
        'MCP Valet',
        `<p>Sign in to see your MCP clients and approvals.</p><p><a id="sign-in" href="${escapeHtml(signIn.loginPath())}">Sign in</a></p>`,
      );
      return;
    }
    const who = session.username
      ? `${session.name || session.username} (${session.username})`
      : session.name;
    sendPage(
      res,
      200,
      'MCP Valet',
      `<p role="status">Signed in as ${escapeHtml(who)}</p><form method="post" action="${escapeHtml(signIn.logoutPath)}"><input type="hidden" name="csrf" value="${escapeHtml(session.csrf)}"><button type="submit" id="sign-out">Sign out</button></form>`,
    );
  });
  return router;
}
