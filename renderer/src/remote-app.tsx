import { useEffect, useRef, useState } from 'react';
import type { AppApi, AppErrorDto } from '../../preload/contract.ts';
import { ApiProvider } from './api/api-context.tsx';
import { signOutOfTeam, type TeamSession } from './api/team-session.ts';
import { ErrorText } from './components/error-text.tsx';
import { NavBar, type NavView } from './components/nav-bar.tsx';
import { useAction } from './hooks/use-action.ts';
import { useApprovals } from './hooks/use-approvals.ts';
import { ActivityView } from './views/activity-view.tsx';
import { ApprovalsView } from './views/approvals-view.tsx';
import { ClientsView } from './views/clients-view.tsx';

/** The views a team server's page offers: the rest belong to the desktop. */
const TEAM_VIEWS = [
  { id: 'clients', title: 'Clients' },
  { id: 'approvals', title: 'Approvals' },
  { id: 'activity', title: 'Activity' },
] as const satisfies readonly NavView[];

type TeamViewId = (typeof TEAM_VIEWS)[number]['id'];

/**
 * A team server's page for its signed-in user (`<public>/`): the desktop's Clients, Approvals
 * and Activity views over `api`, under a header that says who is signed in, whether they are an
 * admin, and lets them sign out.
 */
export function RemoteApp({ api, session }: { api: AppApi; session: TeamSession }) {
  return (
    <ApiProvider api={api}>
      <RemoteShell session={session} />
    </ApiProvider>
  );
}

/** A team server's page that could not read its session: why, and the way back in. */
export function NoTeamSession({ problem, home }: { problem: AppErrorDto; home: string }) {
  return (
    <div className="app">
      <main className="main">
        <h1>MCP Valet</h1>
        <ErrorText error={problem.message} />
        <p>
          <a href={home}>Reload the page</a>
        </p>
      </main>
    </div>
  );
}

function RemoteShell({ session }: { session: TeamSession }) {
  const [view, setView] = useState<TeamViewId>('clients');
  // No banner for a new approval: the navigation counts them, and this page has no other work.
  const approvals = useApprovals(() => undefined);
  const heading = useRef<HTMLHeadingElement>(null);
  const shownView = useRef(view);
  useEffect(() => {
    // Focus follows navigation (not the first render), as in the desktop window.
    if (shownView.current !== view) heading.current?.focus();
    shownView.current = view;
  }, [view]);
  const { name, username } = session.user;
  return (
    <div className="app">
      <header className="app-header">
        <span className="app-name">MCP Valet</span>
        <span className="tag">Team server</span>
        <span className="who" role="status">
          Signed in as {username ? `${name || username} (${username})` : name}
        </span>
        {session.admin && (
          <span className="tag" id="admin" title="You see and can revoke every user’s clients">
            Admin
          </span>
        )}
        <SignOut session={session} />
      </header>
      <div className="layout">
        <NavBar
          views={TEAM_VIEWS}
          current={view}
          pendingApprovals={approvals.approvals.length}
          onSelect={(next) => setView(next as TeamViewId)}
        />
        <main className="main" aria-labelledby="view-title">
          <h1 id="view-title" tabIndex={-1} ref={heading}>
            {TEAM_VIEWS.find((v) => v.id === view)?.title}
          </h1>
          {view === 'clients' && (
            <>
              <McpUrls mcp={session.mcp} />
              <ClientsView teamServer={{ showUsers: session.admin }} />
            </>
          )}
          {view === 'approvals' && (
            <ApprovalsView
              {...approvals}
              approvalPage={(id) => `${session.basePath}/approvals/${encodeURIComponent(id)}`}
            />
          )}
          {view === 'activity' && <ActivityView showAccount={session.admin} />}
        </main>
      </div>
    </div>
  );
}

/** How a user adds a client: the URL to give it, for each way the server signs clients in. */
function McpUrls({ mcp }: { mcp: TeamSession['mcp'] }) {
  const valet = mcp.filter((m) => m.auth === 'valet');
  const entra = mcp.filter((m) => m.auth === 'entra');
  return (
    <>
      {valet.map(({ url }) => (
        <p key={url} className="muted">
          To give an MCP client access, add this server to it as <code>{url}</code>. It sends you
          here to sign in and choose what it may do, and then shows in this list.
        </p>
      ))}
      {entra.map(({ url }) => (
        <p key={url} className="muted">
          Clients that sign you in with Microsoft Entra themselves, as VS Code can, use{' '}
          <code>{url}</code>. They hold no key here, so they are not listed; their calls show in
          Activity.
        </p>
      ))}
    </>
  );
}

function SignOut({ session }: { session: TeamSession }) {
  const action = useAction();
  return (
    <>
      <button
        type="button"
        className="button"
        id="sign-out"
        disabled={action.pending}
        onClick={() =>
          void action.run(async () => {
            await signOutOfTeam(session);
            window.location.assign(session.home);
          })
        }
      >
        Sign out
      </button>
      <ErrorText error={action.error} />
    </>
  );
}
