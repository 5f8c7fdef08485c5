import {
  CALL_NAMES,
  type AppApi,
  type AppErrorDto,
  type AppEventDto,
  type CallName,
} from '../../../preload/contract.ts';
import { AppApiError } from './app-api-error.ts';
import { pollApprovals, type PollPage } from './approval-poll.ts';
import type { TeamSession } from './team-session.ts';

/** How the remote bridge client reaches its server; the browser's own by default. */
export interface RemoteBridgeOptions {
  fetch?: typeof fetch;
  page?: PollPage;
}

/**
 * The AppApi of a team server's page: each call is a POST to `<base>/api/<call>`, carrying
 * the web session's cookie (same origin only) and the session's CSRF token in the X-CSRF-Token
 * header. A call the server does not offer fails with its reason, as any refusal does. Events
 * come from polling the pending approvals (see pollApprovals), while anything listens.
 */
export function createRemoteBridgeClient(
  session: TeamSession,
  base: string,
  options: RemoteBridgeOptions = {},
): AppApi {
  const fetcher = options.fetch ?? ((...args: Parameters<typeof fetch>) => window.fetch(...args));
  const call = async (name: CallName, request: unknown) => {
    const response = await fetcher(`${base}/api/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf },
      body: JSON.stringify(request ?? {}),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    const body = (await response.json().catch(() => ({}))) as {
      result?: unknown;
      error?: AppErrorDto;
    };
    if (!response.ok || body.error)
      throw new AppApiError(
        body.error ?? {
          code: 'http_error',
          message: `The team server answered HTTP ${response.status}: reload the page`,
        },
      );
    return body.result;
  };
  const api = Object.fromEntries(
    CALL_NAMES.map((name) => [name, (request: unknown) => call(name, request)]),
  ) as unknown as AppApi;
  const listeners = new Set<(event: AppEventDto) => void>();
  let stop: (() => void) | undefined;
  api.subscribe = (listener) => {
    listeners.add(listener);
    stop ??= pollApprovals(
      () => api.listApprovals({}),
      (event) => {
        for (const l of listeners) l(event);
      },
      ...(options.page ? [options.page] : []),
    );
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) {
        stop?.();
        stop = undefined;
      }
    };
  };
  return api;
}
