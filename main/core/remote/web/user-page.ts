import type { StoredApproval } from '../approvals/approval-records.ts';
import type { RemoteKey } from '../oauth/remote-keys.ts';
import { escapeHtml as e } from './pages.ts';
import type { ActivityLine } from './user-activity.ts';
import type { KnownUser, WebSession } from './web-sessions.ts';

/** What the user's page shows; every value is escaped here, as clients name themselves. */
export interface UserPageView {
  session: WebSession;
  admin: boolean;
  /** The user whose clients and activity are shown; undefined for an admin's view of everyone. */
  subject: KnownUser | undefined;
  /** Everyone who has signed in, for an admin to pick from (empty for others). */
  users: KnownUser[];
  keys: RemoteKey[];
  /** The signed-in user's own pending approvals. */
  approvals: StoredApproval[];
  activity: ActivityLine[];
  /** The public URL's path ('' at the host's root). */
  basePath: string;
  logoutPath: string;
}

/**
 * The body of the page at `<public>/`: who is signed in, the clients (valet keys) with a revoke
 * form each, the user's pending approvals linking to their pages, and recent tool calls of this
 * instance. Forms carry the session's CSRF token; no script runs.
 */
export function userPageBody(v: UserPageView): string {
  const { session } = v;
  const who = session.username
    ? `${session.name || session.username} (${session.username})`
    : session.name;
  const whose = v.subject
    ? v.subject.oid === session.oid
      ? 'Your'
      : `${v.subject.username}'s`
    : 'Every user’s';
  return [
    `<p role="status">Signed in as ${e(who)}</p>`,
    v.admin
      ? '<p id="admin">You are an admin of this server: you can see and revoke every user’s clients.</p>'
      : '',
    `<form method="post" action="${e(v.logoutPath)}"><input type="hidden" name="csrf" value="${e(session.csrf)}"><button type="submit" id="sign-out">Sign out</button></form>`,
    v.admin ? usersNav(v) : '',
    `<h2>${e(whose)} clients</h2>`,
    keysTable(v),
    '<h2>Your pending approvals</h2>',
    approvalsList(v),
    `<h2>${e(whose)} recent activity on this server</h2>`,
    activityTable(v),
  ].join('');
}

function usersNav(v: UserPageView): string {
  const link = (href: string, label: string, current: boolean) =>
    `<li><a href="${e(href)}"${current ? ' aria-current="page"' : ''}>${e(label)}</a></li>`;
  return [
    '<nav id="users" aria-label="Users"><ul>',
    link(`${v.basePath}/`, 'Every user', v.subject === undefined),
    ...v.users.map((u) =>
      link(
        `${v.basePath}/?user=${encodeURIComponent(u.oid)}`,
        u.username,
        v.subject?.oid === u.oid,
      ),
    ),
    '</ul></nav>',
  ].join('');
}

function keysTable(v: UserPageView): string {
  if (v.keys.length === 0) return '<p id="no-clients">No MCP client has been given access.</p>';
  const owner = v.subject === undefined;
  const head = [
    'Name',
    'Client ID',
    ...(owner ? ['User'] : []),
    'Tools',
    'Read-only',
    'Created',
    'Last used',
    '',
  ];
  const rows = v.keys.map((k) => {
    const cells = [
      e(k.name),
      `<code>${e(k.clientId)}</code>`,
      ...(owner ? [e(k.username || k.oid)] : []),
      e(k.tools.join(', ')),
      k.readOnly ? 'yes' : 'no',
      time(k.createdAt),
      k.lastUsedAt ? time(k.lastUsedAt) : 'never',
      k.revokedAt ? `Revoked ${time(k.revokedAt)}` : revokeForm(v, k),
    ];
    return `<tr data-key-id="${e(k.id)}">${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  return `<table id="clients"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function revokeForm(v: UserPageView, k: RemoteKey): string {
  return `<form method="post" action="${e(`${v.basePath}/keys/${k.id}/revoke`)}"><input type="hidden" name="csrf" value="${e(v.session.csrf)}"><button type="submit" name="revoke" value="${e(k.id)}">Revoke</button></form>`;
}

function approvalsList(v: UserPageView): string {
  if (v.approvals.length === 0)
    return '<p id="no-approvals">Nothing is waiting for your approval.</p>';
  const items = v.approvals.map(
    (a) =>
      `<li data-approval-id="${e(a.id)}"><a href="${e(`${v.basePath}/approvals/${a.id}`)}">${e(a.action)}</a> (<code>${e(a.tool)}</code>) for ${e(a.key.name)}, waiting until ${time(a.expiresAt)}</li>`,
  );
  return `<ul id="approvals">${items.join('')}</ul>`;
}

function activityTable(v: UserPageView): string {
  if (v.activity.length === 0) return '<p id="no-activity">No tool calls yet.</p>';
  const everyone = v.subject === undefined;
  const head = ['Time', 'Tool', 'Outcome', 'Client', ...(everyone ? ['Account'] : [])];
  const rows = v.activity.map((a) => {
    const cells = [
      time(a.time),
      `<code>${e(a.tool)}</code>`,
      e(a.reason ? `${a.outcome} (${a.reason})` : a.outcome),
      e(a.client),
      ...(everyone ? [e(a.account)] : []),
    ];
    return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  return `<table id="activity"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** A timestamp as a <time> element: the ISO text, readable and exact. */
function time(iso: string): string {
  return `<time datetime="${e(iso)}">${e(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</time>`;
}
