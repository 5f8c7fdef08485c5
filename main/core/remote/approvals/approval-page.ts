import { MAX_WINDOW_MINUTES } from '../../approvals/approval-decision.ts';
import { escapeHtml as e } from '../web/pages.ts';
import type { StoredApproval } from './approval-records.ts';

/** The minutes the approve-for-a-while field starts at. */
const DEFAULT_WINDOW_MINUTES = 5;

/**
 * The body of the approval page: what will happen (tool, action, key and client, account, and
 * the summary lines exactly as the local prompt shows them, already marked by approvalSummary:
 * cuts said, URLs with their hosts, invisible characters made visible), then the buttons while
 * it waits, or how it ended. Every value is escaped: the client supplies most of them.
 */
export function approvalPageBody(a: StoredApproval, csrf: string, notice?: string): string {
  const client = a.client ? `${a.client.name} ${a.client.version}` : 'not named by the client';
  const summary = a.summary
    .map((line) => `<dt>${e(line.label)}</dt><dd><pre>${e(line.value)}</pre></dd>`)
    .join('');
  return [
    `<p id="status" role="status">${e(statusLine(a))}</p>`,
    notice ? `<p id="notice" role="alert">${e(notice)}</p>` : '',
    '<dl>',
    `<dt>Tool</dt><dd><code id="tool">${e(a.tool)}</code></dd>`,
    `<dt>Action</dt><dd id="action">${e(a.action)}</dd>`,
    `<dt>Valet key</dt><dd id="key">${e(a.key.name)} (<code>${e(a.key.id)}</code>)</dd>`,
    `<dt>Client</dt><dd id="client">${e(client)}</dd>`,
    `<dt>Account</dt><dd id="account">${e(a.account)}</dd>`,
    '</dl>',
    summary ? `<h2>What it will do</h2><dl id="summary">${summary}</dl>` : '',
    a.status === 'pending' ? decisionForm(a, csrf) : '',
  ].join('');
}

function decisionForm(a: StoredApproval, csrf: string): string {
  return [
    '<form method="post" action="">',
    `<input type="hidden" name="csrf" value="${e(csrf)}">`,
    `<p>Waiting until ${e(a.expiresAt)}; no decision by then is a denial.</p>`,
    '<p><button type="submit" id="approve" name="decision" value="once" formnovalidate>Approve once</button> ',
    '<button type="submit" id="deny" name="decision" value="deny" formnovalidate>Deny</button></p>',
    `<p><label>Or approve ${e(a.tool)} with this key for <input type="number" id="minutes" name="minutes" min="1" max="${MAX_WINDOW_MINUTES}" step="1" value="${DEFAULT_WINDOW_MINUTES}"> minutes</label> `,
    '<button type="submit" id="approve-window" name="decision" value="window">Approve for a while</button></p>',
    '</form>',
  ].join('');
}

/** One line saying where the approval stands. */
export function statusLine(a: StoredApproval): string {
  switch (a.status) {
    case 'pending':
      return `A client asks to run ${a.tool} as you. Approve it only if you expect it.`;
    case 'approved':
      return a.decision?.kind === 'window'
        ? `Approved for ${a.decision.minutes} minutes: calls of ${a.tool} with this key run without asking until then.`
        : `Approved once${a.used ? ': the call has run' : ''}.`;
    case 'denied':
      return 'Denied: it was not run.';
    case 'timed-out':
      return 'No decision in time, so it was not run. If the client calls again, it asks again here.';
    case 'cancelled':
      return 'Cancelled: the client stopped waiting, so it was not run. If the client calls again, it asks again here.';
  }
}
