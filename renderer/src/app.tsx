import { useEffect, useRef, useState } from 'react';
import type { AppApi, ApprovalDto } from '../../preload/contract.ts';
import { ApiProvider } from './api/api-context.tsx';
import { useAppEvents } from './hooks/use-app-events.ts';
import { useApprovals } from './hooks/use-approvals.ts';
import { SignInProgressProvider } from './hooks/use-sign-in-progress.tsx';
import { useStatus } from './hooks/use-status.ts';
import { ApprovalNotice } from './components/approval-notice.tsx';
import { ErrorText } from './components/error-text.tsx';
import { NavBar, VIEWS, type ViewId } from './components/nav-bar.tsx';
import { AccountsView } from './views/accounts-view.tsx';
import { ActivityView } from './views/activity-view.tsx';
import { ApprovalsView } from './views/approvals-view.tsx';
import { ClientsView } from './views/clients-view.tsx';
import { FirstRunView } from './views/first-run-view.tsx';
import { StatusView } from './views/status-view.tsx';
import { ToolsView } from './views/tools-view.tsx';

/** The MCP Valet window, talking only to `api`. */
export function App({ api }: { api: AppApi }) {
  return (
    <ApiProvider api={api}>
      <SignInProgressProvider>
        <Shell />
      </SignInProgressProvider>
    </ApiProvider>
  );
}

function Shell() {
  const { status, error, refresh, setStatus } = useStatus();
  const [view, setView] = useState<ViewId>('status');
  const [notice, setNotice] = useState<ApprovalDto | null>(null);
  const approvals = useApprovals((approval) => {
    if (view !== 'approvals') setNotice(approval);
  });
  const heading = useRef<HTMLHeadingElement>(null);
  const shownView = useRef(view);
  useEffect(() => {
    // Focus follows navigation (not the first render), so keyboard and screen reader users land
    // on the new view's title.
    if (shownView.current !== view) heading.current?.focus();
    shownView.current = view;
  }, [view]);
  const select = (next: ViewId) => {
    if (next === 'approvals') setNotice(null);
    setView(next);
  };
  // The desktop tray's "approvals waiting" and notifications open a view.
  useAppEvents((event) => {
    if (event.type === 'show-view') select(event.view);
  });
  // A notice for an approval already decided elsewhere would send the user to nothing.
  const noticed = notice && approvals.approvals.some((a) => a.id === notice.id) ? notice : null;
  const configured = status?.configured ?? false;
  const title = !status ? 'MCP Valet' : configured ? titleOf(view) : 'Set up MCP Valet';
  return (
    <div className="app">
      <header className="app-header">
        <span className="app-name">MCP Valet</span>
        {status?.demo && <span className="tag">Demo</span>}
        {status?.account && <span className="who">{status.account.username}</span>}
      </header>
      <ApprovalNotice
        approval={noticed}
        onOpen={() => select('approvals')}
        onDismiss={() => setNotice(null)}
      />
      <div className="layout">
        {configured && (
          <NavBar current={view} pendingApprovals={approvals.approvals.length} onSelect={select} />
        )}
        <main className="main" aria-labelledby="view-title">
          <h1 id="view-title" tabIndex={-1} ref={heading}>
            {title}
          </h1>
          {!status && !error && <p className="muted">Loading…</p>}
          {!status && error && (
            <>
              <ErrorText error={error} />
              <button type="button" className="button" onClick={() => void refresh()}>
                Try again
              </button>
            </>
          )}
          {status && !configured && (
            <FirstRunView
              onSaved={(s) => {
                setStatus(s);
                setView('status');
              }}
            />
          )}
          {status && configured && view === 'status' && (
            <StatusView status={status} refresh={refresh} />
          )}
          {status && configured && view === 'accounts' && <AccountsView refreshStatus={refresh} />}
          {status && configured && view === 'clients' && <ClientsView />}
          {status && configured && view === 'activity' && <ActivityView />}
          {status && configured && view === 'approvals' && <ApprovalsView {...approvals} />}
          {status && configured && view === 'tools' && <ToolsView />}
        </main>
      </div>
    </div>
  );
}

function titleOf(view: ViewId): string {
  return VIEWS.find((v) => v.id === view)?.title ?? 'MCP Valet';
}
