import { Router, type Request } from 'express';
import type { AuditEvent } from '../../audit/audit-types.ts';
import type { Logger } from '../../util/logger.ts';
import { describeError } from '../../util/valet-error.ts';
import { rendererDir } from '../../web/web-bridge.ts';
import type { StoreApprovals } from '../approvals/store-approvals.ts';
import type { RemoteConfig } from '../remote-config.ts';
import { mcpPaths } from '../server/mcp-routes.ts';
import type { SharedStore } from '../store/shared-store.ts';
import { escapeHtml, sendPage, sendProblem } from './pages.ts';
import { teamApiRoutes } from './team-api.ts';
import type { TeamUser } from './team-calls.ts';
import { sendTeamPage, sendWindowAsset, teamPageHtml } from './team-page.ts';
import type { WebSignIn } from './web-sign-in.ts';
import type { WebSession } from './web-sessions.ts';

/** The app role that makes a user an admin of the server's pages. */
export const ADMIN_ROLE = 'Valet.Admin';

/** What the user's page reads and changes. */
export interface HomeDeps {
  store: SharedStore;
  /** The remote core's approvals, this instance's audit log and its audit hook. */
  core: {
    approvals: Pick<StoreApprovals, 'listFor' | 'forgetKey' | 'get' | 'decide'>;
    audit: { dir: string };
    runner: { audit: (event: AuditEvent) => Promise<unknown> };
  };
  /** `admins`: object IDs of admins besides holders of the app role Valet.Admin (VALET_ADMINS). */
  config: Pick<RemoteConfig, 'admins' | 'auth' | 'publicUrl' | 'clientId' | 'authority'>;
  logger: Logger;
  /** The built window (dist/renderer); found next to the core when not given. */
  rendererDir?: string;
  /** Activity from the live feed of every instance (several instances over Redis). */
  sharedActivity?: boolean;
}

/**
 * `GET /`, the user's page. Signed out, a small page with a link to sign in. Signed in, the
 * desktop's React window in team-server mode: its Clients, Approvals and Activity views over
 * the AppApi at `/api/…` (see teamApiRoutes), its files under `/assets/`. A user sees their own
 * clients (valet keys) with revoke, their pending approvals and their calls on this instance;
 * an admin (app role Valet.Admin, or listed in VALET_ADMINS) sees every user's clients and
 * calls, and may revoke any key. Everything is under the public URL's path.
 */
export function homeRoutes(signIn: WebSignIn, deps: HomeDeps): Router {
  const admins = new Set(deps.config.admins.map((a) => a.toLowerCase()));
  const isAdmin = (s: WebSession) =>
    s.roles.includes(ADMIN_ROLE) || admins.has(s.oid.toLowerCase());
  const userOf = async (req: Request): Promise<TeamUser | null> => {
    const session = await signIn.session(req);
    return session && { session, admin: isAdmin(session) };
  };
  const { auth, publicUrl } = deps.config;
  const mcp = mcpPaths(auth).map((path, i) => ({
    url: `${publicUrl}${path}`,
    // Both modes: valet mode at /mcp, entra mode at /entra/mcp.
    auth: auth === 'both' ? (i === 0 ? 'valet' : 'entra') : auth,
  }));
  // Found at first use, so a server whose window is not built still serves everything else.
  let windowDir: string | undefined = deps.rendererDir;
  let reported = false;
  const builtWindow = (): string | undefined => {
    try {
      windowDir ??= rendererDir();
      return windowDir;
    } catch (err) {
      if (!reported) deps.logger.error(`The user's page cannot be served: ${describeError(err)}`);
      reported = true;
      return undefined;
    }
  };

  const router = Router();
  router.get('/', async (req, res) => {
    // The window's files are relative to the page: `<public>` must end in a slash for them.
    const { pathname, search } = new URL(req.originalUrl, 'http://localhost');
    if (!pathname.endsWith('/')) {
      res.redirect(308, `${signIn.home}${search}`);
      return;
    }
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
    const dir = builtWindow();
    const html = dir && (await teamPageHtml(dir, signIn.basePath));
    if (!html) {
      sendProblem(
        res,
        503,
        'The page is not available',
        'This server was installed without its web page (the built window). Its MCP endpoint works; the server log says what is missing.',
      );
      return;
    }
    sendTeamPage(res, html);
  });

  router.get('/assets/{*file}', async (req, res, next) => {
    const dir = builtWindow();
    if (!dir || !(await sendWindowAsset(res, dir, req.path))) next();
  });

  router.use(
    teamApiRoutes(signIn, userOf, mcp, {
      store: deps.store,
      approvals: deps.core.approvals,
      audit: { dir: deps.core.audit.dir, append: deps.core.runner.audit },
      config: deps.config,
      mcpUrls: mcp.map((m) => m.url),
      ...(deps.sharedActivity ? { sharedActivity: true } : {}),
      logger: deps.logger,
    }),
  );
  return router;
}
