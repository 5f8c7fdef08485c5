import type { ApprovalDto, AppEventDto } from '../../../preload/contract.ts';
import { AppApiError } from './app-api-error.ts';

/** How often the page asks its team server for pending approvals, and how far it backs off. */
export const APPROVAL_POLL_MS = { every: 2_000, maxBackoff: 30_000 } as const;

/** What pollApprovals needs of the page; the browser's own by default. */
export interface PollPage {
  /** Whether the page is hidden (another tab): it then asks nothing. */
  hidden: () => boolean;
  setTimeout: (run: () => void, ms: number) => unknown;
  clearTimeout: (timer: unknown) => void;
}

const browserPage: PollPage = {
  hidden: () => document.visibilityState === 'hidden',
  setTimeout: (run, ms) => window.setTimeout(run, ms),
  clearTimeout: (timer) => window.clearTimeout(timer as number),
};

/**
 * Follows a team server's pending approvals by asking for them every APPROVAL_POLL_MS.every, one
 * request at a time, and turns what changed into the window's events: `approval-requested` for
 * each new one, `approval-decided` for each that left the list (decided here, on its page, or
 * timed out). A team server keeps no connection to push on, and its approvals announce only
 * their end to other instances, so the page asks. A failed request backs off up to
 * APPROVAL_POLL_MS.maxBackoff; a hidden page asks nothing; a session that ended stops it.
 * Returns the function that stops it.
 */
export function pollApprovals(
  list: () => Promise<ApprovalDto[]>,
  emit: (event: AppEventDto) => void,
  page: PollPage = browserPage,
): () => void {
  let known: Set<string> | undefined;
  let stopped = false;
  let timer: unknown;
  let wait: number = APPROVAL_POLL_MS.every;
  const next = (ms: number) => {
    if (!stopped) timer = page.setTimeout(() => void poll(), ms);
  };
  const poll = async () => {
    if (page.hidden()) return next(APPROVAL_POLL_MS.every);
    let approvals: ApprovalDto[];
    try {
      approvals = await list();
    } catch (err) {
      if (err instanceof AppApiError && err.code === 'signed_out') return;
      wait = Math.min(wait * 2, APPROVAL_POLL_MS.maxBackoff);
      return next(wait);
    }
    if (stopped) return;
    wait = APPROVAL_POLL_MS.every;
    const now = new Set(approvals.map((a) => a.id));
    for (const approval of approvals)
      if (!known?.has(approval.id)) emit({ type: 'approval-requested', approval });
    for (const id of known ?? [])
      if (!now.has(id)) emit({ type: 'approval-decided', id, outcome: 'ended' });
    known = now;
    next(wait);
  };
  next(APPROVAL_POLL_MS.every);
  return () => {
    stopped = true;
    page.clearTimeout(timer);
  };
}
