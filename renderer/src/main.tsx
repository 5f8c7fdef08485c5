import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { currentApi } from './api/current-api.ts';
import { createRemoteBridgeClient } from './api/remote-bridge-client.ts';
import { openTeamSession } from './api/team-session.ts';
import { NoTeamSession, RemoteApp } from './remote-app.tsx';
// One stylesheet, emitted by Vite as a file: the CSP allows styles from 'self' only.
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('The page has no #root element');
const render = (app: ReactNode) => createRoot(root).render(<StrictMode>{app}</StrictMode>);

/** A `<meta>` the server put in the page, by name. */
const meta = (name: string) =>
  document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content;

// A team server marks its page; the desktop window and `serve --ui` do not.
if (meta('mcp-valet-mode') === 'remote') {
  const base = meta('mcp-valet-base') ?? '';
  void openTeamSession(base).then((opened) =>
    render(
      'session' in opened ? (
        <RemoteApp api={createRemoteBridgeClient(opened.session, base)} session={opened.session} />
      ) : (
        <NoTeamSession problem={opened.problem} home={`${base}/`} />
      ),
    ),
  );
} else {
  void currentApi().then((api) => render(<App api={api} />));
}
