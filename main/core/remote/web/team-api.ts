import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { AppErrorDto, TeamSessionDto } from '../../../../preload/contract.ts';
import { dispatchCall } from '../../app/dispatch-call.ts';
import { isCallName } from '../../app/call-schemas.ts';
import {
  isTeamCall,
  notOnTeamServer,
  teamAppApi,
  type TeamCallDeps,
  type TeamUser,
} from './team-calls.ts';
import type { WebSignIn } from './web-sign-in.ts';

/** The header every call carries the session's CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

/** HTTP status of a failed call, by its error code; other refusals are 409. */
const HTTP_STATUS: Record<string, number> = {
  unknown_call: 404,
  not_on_team_server: 404,
  no_key: 404,
  no_approval: 404,
  invalid_request: 400,
  invalid_decision: 400,
  not_yours: 403,
  unexpected: 500,
};

/** Largest call body: the biggest request (a decision, an activity query) is far smaller. */
const MAX_CALL_BYTES = 16 * 1024;

function sendError(res: Response, status: number, error: AppErrorDto): void {
  res.status(status).set('cache-control', 'no-store').json({ error });
}

/**
 * The AppApi of the team server's page, under `<public>/api/`: `GET session` hands the page its
 * user and CSRF token, and `POST <call>` runs a call as the signed-in user, validated with the
 * AppApi's own schemas. Every call needs the web session's cookie and the session's CSRF token in
 * the X-CSRF-Token header, which no other site can read or set (and the server's Origin guard
 * refuses other sites before this). Answers are JSON, `{result}` or `{error}`, never cached.
 */
export function teamApiRoutes(
  signIn: WebSignIn,
  userOf: (req: Request) => Promise<TeamUser | null>,
  mcp: TeamSessionDto['mcp'],
  deps: TeamCallDeps,
): Router {
  const router = Router();
  const signedOut: AppErrorDto = {
    code: 'signed_out',
    message:
      'You are not signed in to this server, or your session ended: reload the page to sign in again',
  };

  router.get('/api/session', async (req, res) => {
    const user = await userOf(req);
    if (!user) return sendError(res, 401, signedOut);
    const { session, admin } = user;
    const body: TeamSessionDto = {
      csrf: session.csrf,
      user: { name: session.name, username: session.username || session.oid },
      admin,
      signOutPath: signIn.logoutPath,
      home: signIn.home,
      basePath: signIn.basePath,
      mcp,
    };
    res.set('cache-control', 'no-store').json(body);
  });

  /** The request's user, once the session and its CSRF header are checked. */
  const checked = async (req: Request, res: Response, next: NextFunction) => {
    const user = await userOf(req);
    if (!user) return sendError(res, 401, signedOut);
    if (!signIn.csrfMatches(user.session, req.get(CSRF_HEADER)))
      return sendError(res, 403, {
        code: 'csrf_refused',
        message:
          "This call did not come from your page of MCP Valet: it lacks your session's CSRF token. Reload the page and try again",
      });
    if (!req.is('application/json'))
      return sendError(res, 415, {
        code: 'unsupported_media_type',
        message: 'Send the request as JSON, with Content-Type: application/json',
      });
    res.locals.user = user;
    next();
  };

  router.post(
    '/api/:call',
    checked,
    express.json({ limit: MAX_CALL_BYTES, strict: false }),
    async (req: Request<{ call: string }>, res: Response) => {
      const name = req.params.call;
      if (isCallName(name) && !isTeamCall(name)) {
        const refused = notOnTeamServer(name);
        return sendError(res, 404, { code: refused.code, message: refused.message });
      }
      const api = teamAppApi(res.locals.user as TeamUser, deps);
      const outcome = await dispatchCall(api, name, req.body);
      if (outcome.ok) return res.set('cache-control', 'no-store').json({ result: outcome.result });
      sendError(res, HTTP_STATUS[outcome.error.code] ?? 409, outcome.error);
    },
  );

  router.all('/api/{*rest}', (req, res) =>
    sendError(res, req.method === 'GET' ? 404 : 405, {
      code: req.method === 'GET' ? 'not_found' : 'method_not_allowed',
      message: 'The page calls POST <public>/api/<call>, and reads GET <public>/api/session',
    }),
  );

  // A body too large or not JSON is the caller's mistake, answered in the API's own shape.
  router.use('/api', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = (err as { status?: unknown }).status;
    if (typeof status !== 'number' || status < 400 || status >= 500) return next(err);
    sendError(res, status, {
      code: status === 413 ? 'too_large' : 'bad_request',
      message:
        status === 413
          ? `The request body is larger than ${MAX_CALL_BYTES} bytes`
          : 'The request body is not valid JSON',
    });
  });

  return router;
}
