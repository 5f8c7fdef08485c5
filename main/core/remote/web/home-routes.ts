import express, { Router, type Request, type Response } from 'express';
import type { AuditEvent } from '../../audit/audit-types.ts';
import type { Logger } from '../../util/logger.ts';
import type { StoreApprovals } from '../approvals/store-approvals.ts';
import { listRemoteKeys, revokeRemoteKey } from '../oauth/key-revocation.ts';
import { RemoteKeys } from '../oauth/remote-keys.ts';
import type { RemoteConfig } from '../remote-config.ts';
import type { SharedStore } from '../store/shared-store.ts';
import { escapeHtml, sendPage, sendProblem } from './pages.ts';
import { recentActivity } from './user-activity.ts';
import { userPageBody } from './user-page.ts';
import type { WebSignIn } from './web-sign-in.ts';
import { WebSessions, type KnownUser, type WebSession } from './web-sessions.ts';

/** The app role that makes a user an admin of the server's pages. */
export const ADMIN_ROLE = 'Valet.Admin';

/** What the user's page reads and changes. */
export interface HomeDeps {
  store: SharedStore;
  /** The remote core's approvals, this instance's audit log and its audit hook. */
  core: {
    approvals: Pick<StoreApprovals, 'listFor' | 'forgetKey'>;
    audit: { dir: string };
    runner: { audit: (event: AuditEvent) => Promise<unknown> };
  };
  /** `admins`: object IDs of admins besides holders of the app role Valet.Admin (VALET_ADMINS). */
  config: Pick<RemoteConfig, 'admins'>;
  logger: Logger;
}

const KEY_ID = /^[0-9a-f]{12}$/;
const OID = /^[0-9A-Za-z-]{1,64}$/;

/**
 * `GET /`, the user's page: signed out, a link to sign in; signed in, their clients (valet keys)
 * with revoke, their pending approvals and their recent tool calls on this instance. An admin
 * (app role Valet.Admin, or listed in VALET_ADMINS) sees every user's clients and activity, or
 * one user's with `?user=<oid>`, and may revoke any key; anyone else asking for another user's
 * gets 403. `POST /keys/{id}/revoke` revokes a key at once (its tokens are deleted), from a form
 * carrying the session's CSRF token only.
 */
export function homeRoutes(signIn: WebSignIn, deps: HomeDeps): Router {
  const keys = new RemoteKeys(deps.store);
  const sessions = new WebSessions(deps.store);
  const admins = new Set(deps.config.admins.map((a) => a.toLowerCase()));
  const isAdmin = (s: WebSession) =>
    s.roles.includes(ADMIN_ROLE) || admins.has(s.oid.toLowerCase());
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 });

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
    const admin = isAdmin(session);
    const asked = req.query.user;
    if (asked !== undefined && (typeof asked !== 'string' || !OID.test(asked))) {
      sendProblem(
        res,
        400,
        'No such user',
        'The user= parameter names no user. Open the page from its own links.',
      );
      return;
    }
    const wanted = asked ?? (admin ? undefined : session.oid);
    if (wanted !== undefined && wanted !== session.oid && !admin) {
      notYours(res, 'This page shows only your own clients and activity.');
      return;
    }
    const users = admin ? await sessions.knownUsers() : [];
    const subject: KnownUser | undefined =
      wanted === undefined
        ? undefined
        : wanted === session.oid
          ? { oid: session.oid, username: session.username || session.oid }
          : (users.find((u) => u.oid === wanted) ?? { oid: wanted, username: wanted });
    const shown = await listRemoteKeys(deps.store, subject?.oid);
    const [approvals, activity] = await Promise.all([
      deps.core.approvals.listFor(session.oid),
      recentActivity(
        deps.core.audit.dir,
        subject ? { keyIds: shown.map((k) => k.id), username: subject.username } : undefined,
      ),
    ]);
    sendPage(
      res,
      200,
      'MCP Valet',
      userPageBody({
        session,
        admin,
        subject,
        users,
        keys: shown,
        approvals,
        activity,
        basePath: signIn.basePath,
        logoutPath: signIn.logoutPath,
      }),
    );
  });

  router.post('/keys/:id/revoke', form, async (req: Request<{ id: string }>, res) => {
    const session = await signIn.session(req);
    if (!session) {
      sendProblem(res, 401, 'Not signed in', 'Sign in, then revoke the client from your page.', {
        href: signIn.loginPath(),
        label: 'Sign in',
      });
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!signIn.csrfMatches(session, body.csrf)) {
      sendProblem(
        res,
        403,
        'Refused',
        'This form did not come from your session of MCP Valet. Reload your page and revoke there.',
      );
      return;
    }
    const { id } = req.params;
    const key = KEY_ID.test(id) ? await keys.get(id) : undefined;
    if (!key) {
      sendProblem(res, 404, 'No such client', 'There is no such client key. Reload your page.', {
        href: signIn.home,
        label: 'Your page',
      });
      return;
    }
    if (key.oid !== session.oid && !isAdmin(session)) {
      notYours(res, 'This client belongs to another user; only they or an admin can revoke it.');
      return;
    }
    await revokeRemoteKey(
      { keys, approvals: deps.core.approvals, audit: deps.core.runner.audit, logger: deps.logger },
      key,
      session.username || session.oid,
    );
    const back =
      key.oid === session.oid ? signIn.home : `${signIn.home}?user=${encodeURIComponent(key.oid)}`;
    res.redirect(303, back);
  });

  return router;
}

function notYours(res: Response, message: string): void {
  sendProblem(res, 403, 'Not yours', message);
}
