import type { AppErrorDto } from '../../../preload/contract.ts';

/** Where the page keeps its session token: sessionStorage, which no other origin (port) reads. */
export const SESSION_STORAGE_KEY = 'mcp-valet-session';

/** The page's session with the web bridge, or why it has none (in words for the user). */
export type WebSession = { token: string } | { problem: AppErrorDto };

/** What openWebSession needs of the page; the browser's own objects by default. */
export interface SessionPage {
  location: Pick<Location, 'hash' | 'pathname' | 'search'>;
  history: Pick<History, 'replaceState'>;
  storage: Pick<Storage, 'getItem' | 'setItem'>;
  fetch: typeof fetch;
}

const NO_SESSION: AppErrorDto = {
  code: 'no_session',
  message: 'This page needs a link to open MCP Valet: run `mcp-valet ui` for a new one',
};

/**
 * Opens the page's session. A link (`…/#link=<secret>`) carries a one-use secret in its
 * fragment, which no browser sends to a server: it is taken off the address (and history)
 * at once and exchanged for a session token, kept in sessionStorage so a reload stays in.
 * Without a link, the token of an earlier load of this tab is used.
 */
export async function openWebSession(
  page: SessionPage = {
    location: window.location,
    history: window.history,
    storage: window.sessionStorage,
    fetch: (...args) => window.fetch(...args),
  },
  base = '',
): Promise<WebSession> {
  const stored = page.storage.getItem(SESSION_STORAGE_KEY) ?? undefined;
  const link = new URLSearchParams(page.location.hash.replace(/^#/, '')).get('link');
  if (!link) return stored ? { token: stored } : { problem: NO_SESSION };
  page.history.replaceState(null, '', `${page.location.pathname}${page.location.search}`);
  let problem: AppErrorDto;
  try {
    const response = await page.fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ link }),
      cache: 'no-store',
    });
    const body = (await response.json().catch(() => ({}))) as {
      session?: unknown;
      error?: AppErrorDto;
    };
    if (response.ok && typeof body.session === 'string') {
      page.storage.setItem(SESSION_STORAGE_KEY, body.session);
      return { token: body.session };
    }
    problem = body.error ?? {
      code: 'http_error',
      message: `MCP Valet answered HTTP ${response.status}: run \`mcp-valet ui\` for a new link`,
    };
  } catch {
    problem = {
      code: 'unreachable',
      message: 'MCP Valet does not answer: is `mcp-valet serve --ui` still running?',
    };
  }
  // A link opened again in a tab that already has a session keeps that session.
  return stored ? { token: stored } : { problem };
}
