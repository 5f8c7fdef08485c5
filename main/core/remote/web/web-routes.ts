import express, { Router } from 'express';
import { MAX_BODY_BYTES } from '../server/guards.ts';
import { escapeHtml, sendPage, sendProblem } from './pages.ts';
import type { WebSignIn } from './web-sign-in.ts';

export { homeRoutes, type HomeDeps } from './home-routes.ts';

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

/**
 * `GET /auth/grant?scopes=…`, where a tool's error sends a user whose Graph token lacks consent
 * or a recent sign-in: once signed in here, the authority is asked for those scopes
 * (incremental consent, MFA), and `/auth/grant/done` says so. Only the Graph scopes the tools
 * use can be asked for, so the link cannot be made to ask for anything else.
 */
export function grantRoutes(signIn: WebSignIn, grantable: readonly string[]): Router {
  const known = new Map(grantable.map((s) => [s.toLowerCase(), s]));
  const router = Router();
  const parse = (raw: unknown) => {
    const asked = typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : [];
    const scopes = asked.map((s) => known.get(s.toLowerCase()));
    return asked.length > 0 && asked.length <= known.size && scopes.every(Boolean)
      ? [...new Set(scopes as string[])]
      : undefined;
  };
  router.get('/auth/grant', async (req, res) => {
    const scopes = parse(req.query.scopes);
    if (!scopes) {
      sendProblem(
        res,
        400,
        'Nothing to grant',
        `This link names no Microsoft Graph permission that MCP Valet's tools use (${grantable.join(', ')}). Open the link the tool's message gave.`,
      );
      return;
    }
    const query = `scopes=${encodeURIComponent(scopes.join(' '))}`;
    if (!(await signIn.session(req))) {
      res.redirect(303, signIn.loginPath(`${signIn.basePath}/auth/grant?${query}`));
      return;
    }
    await signIn.grant(req, res, scopes, `${signIn.basePath}/auth/grant/done?${query}`);
  });
  router.get('/auth/grant/done', (req, res) => {
    const scopes = parse(req.query.scopes) ?? [];
    sendPage(
      res,
      200,
      'Permission granted',
      `<p role="status">MCP Valet may now use Microsoft Graph (${escapeHtml(scopes.join(', '))}) as you. Go back to your MCP client and call the tool again.</p>`,
    );
  });
  return router;
}
