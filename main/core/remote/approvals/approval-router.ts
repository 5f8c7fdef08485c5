import express, { type Request, type Response, type Router } from 'express';
import type { ApprovalDecision } from '../../approvals/approval-service.ts';
import { describeError, isValetError } from '../../util/valet-error.ts';
import type { Logger } from '../../util/logger.ts';
import { CONTENT_SECURITY_POLICY } from '../server/guards.ts';
import { sendPage, sendProblem } from '../web/pages.ts';
import { sameSecret } from '../web/secrets.ts';
import { isApprovalId } from './approval-id.ts';
import { approvalPageBody } from './approval-page.ts';
import type { StoredApproval } from './approval-records.ts';
import type { StoreApprovals } from './store-approvals.ts';

/** The signed-in user of a request as the web sign-in keeps them (`WebSignIn.session`). */
export interface ApprovalPageUser {
  oid: string;
  /** The session's CSRF token, which the page's form carries back. */
  csrf: string;
}

/** How the approval pages are made. */
export interface ApprovalRouterOptions {
  approvals: StoreApprovals;
  /** The web session of a request, or null/undefined when the browser is not signed in. */
  currentUser: (req: Request) => Promise<ApprovalPageUser | null | undefined>;
  /** The sign-in link that comes back to `returnTo` (default `/auth/login?returnTo=…`). */
  loginPath?: (returnTo: string) => string;
  logger: Logger;
}

/**
 * GET and POST `/approvals/{id}`: the page where a user decides on a call that waits for them.
 * Only a web session of the very user the call acts as sees or decides it; anyone else gets a
 * 403 that says nothing of it, and a browser with no session is sent to sign in first. A
 * decision counts only from a form carrying the session's CSRF token. The page is never cached
 * or framed.
 */
export function approvalRouter(options: ApprovalRouterOptions): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 });
  const login = options.loginPath ?? ((to) => `/auth/login?returnTo=${encodeURIComponent(to)}`);

  /** The request's user and their approval, or undefined once a refusal has been sent. */
  async function mine(
    req: Request<{ id: string }>,
    res: Response,
  ): Promise<{ user: ApprovalPageUser; approval: StoredApproval } | undefined> {
    headers(res);
    const { id } = req.params;
    const user = await options.currentUser(req);
    if (!user) {
      res.redirect(303, login(`/approvals/${id}`));
      return undefined;
    }
    if (req.method === 'POST' && !sameSecret(String(bodyOf(req).csrf ?? ''), user.csrf)) {
      sendProblem(
        res,
        403,
        'Refused',
        'This form did not come from your session of MCP Valet. Reload the approval page and decide there.',
      );
      return undefined;
    }
    const approval = isApprovalId(id) ? await options.approvals.get(id) : undefined;
    if (!approval) {
      sendProblem(
        res,
        404,
        'No such approval',
        'This approval does not exist, or it ended long ago. If the client still needs it, it asks again when it calls again.',
      );
      return undefined;
    }
    if (approval.oid !== user.oid) {
      sendProblem(
        res,
        403,
        'Not yours',
        'This page belongs to another user. Sign in as the user the client acts for.',
      );
      return undefined;
    }
    return { user, approval };
  }

  router.get('/approvals/:id', async (req, res) => {
    const found = await mine(req, res);
    if (found)
      sendPage(res, 200, title(found.approval), approvalPageBody(found.approval, found.user.csrf));
  });

  router.post('/approvals/:id', form, async (req, res) => {
    const found = await mine(req, res);
    if (!found) return;
    const { user, approval } = found;
    const decision = decisionOf(bodyOf(req));
    try {
      await options.approvals.decide(approval.id, user.oid, decision);
    } catch (err) {
      if (isValetError(err) && err.code === 'invalid_decision') {
        sendPage(res, 400, title(approval), approvalPageBody(approval, user.csrf, err.message));
        return;
      }
      options.logger.error(
        `A decision on an approval could not be recorded: ${describeError(err)}`,
      );
      sendProblem(
        res,
        500,
        'Not recorded',
        'Your decision could not be recorded, so nothing was approved. Reload the page and try again.',
      );
      return;
    }
    // Back to the page, which now says how it ended (and a reload does not post again).
    res.redirect(303, req.originalUrl);
  });

  return router;
}

function title(a: StoredApproval): string {
  return `Approve: ${a.action}?`;
}

function headers(res: Response): void {
  res.set({
    'cache-control': 'no-store',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
  });
}

function bodyOf(req: Request): Record<string, unknown> {
  return (req.body ?? {}) as Record<string, unknown>;
}

/** The decision a form posted; anything else is left for the approval rule to refuse. */
function decisionOf(body: Record<string, unknown>): ApprovalDecision {
  if (body.decision === 'once') return { kind: 'once' };
  if (body.decision === 'deny') return { kind: 'deny' };
  if (body.decision === 'window') {
    const raw = typeof body.minutes === 'string' ? body.minutes.trim() : '';
    return { kind: 'window', minutes: /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN };
  }
  return { kind: String(body.decision) } as unknown as ApprovalDecision;
}
