import type { AppErrorDto, TeamSessionDto } from '../../../preload/contract.ts';

/** What a team server tells its page about the signed-in user (`GET <base>/api/session`). */
export type TeamSession = TeamSessionDto;

/** The page's session with its team server, or why it has none (in words for the user). */
export type TeamSessionResult = { session: TeamSession } | { problem: AppErrorDto };

/**
 * Reads the page's session from its team server, under the public path `base`. The session
 * itself is the server's HttpOnly cookie, sent only to this origin; what comes back is who is
 * signed in and the CSRF token the calls carry.
 */
export async function openTeamSession(
  base: string,
  fetcher: typeof fetch = (...args) => window.fetch(...args),
): Promise<TeamSessionResult> {
  try {
    const response = await fetcher(`${base}/api/session`, {
      credentials: 'same-origin',
      cache: 'no-store',
    });
    const body = (await response.json().catch(() => ({}))) as Partial<TeamSession> & {
      error?: AppErrorDto;
    };
    if (response.ok && typeof body.csrf === 'string') return { session: body as TeamSession };
    return {
      problem: body.error ?? {
        code: 'http_error',
        message: `The team server answered HTTP ${response.status}: reload the page`,
      },
    };
  } catch {
    return {
      problem: { code: 'unreachable', message: 'The team server does not answer: reload the page' },
    };
  }
}

/**
 * Signs out: posts the sign-out form's one field, the CSRF token, as the server's sign-out
 * expects a form (the page's CSP allows no form posts, so the page sends it itself). Throws with
 * a message for the user when the server refused.
 */
export async function signOutOfTeam(
  session: TeamSession,
  fetcher: typeof fetch = (...args) => window.fetch(...args),
): Promise<void> {
  const response = await fetcher(session.signOutPath, {
    method: 'POST',
    body: new URLSearchParams({ csrf: session.csrf }),
    credentials: 'same-origin',
    cache: 'no-store',
    // The server answers with a redirect to the page: that is the success.
    redirect: 'manual',
  });
  if (response.type !== 'opaqueredirect' && !response.ok)
    throw new Error(`Signing out failed (HTTP ${response.status}): reload the page and try again`);
}
