import {
  CALL_NAMES,
  type AppApi,
  type AppErrorDto,
  type AppEventDto,
  type CallName,
} from '../../../preload/contract.ts';
import { AppApiError } from './app-api-error.ts';
import type { WebSession } from './web-session.ts';

/** How long to wait before reconnecting the event stream: doubles up to a ceiling. */
const RETRY_MS = { first: 500, max: 10_000 };

/**
 * Reads a `text/event-stream` body and hands each event's data to `onData`. Our bridge sends
 * only `data:` lines and `:` comments, one event per blank-line-separated block.
 */
async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onData: (data: string) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''));
      if (data.length > 0) onData(data.join('\n'));
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/**
 * The AppApi over the web bridge of `mcp-valet serve --ui`: each call is a POST to
 * /api/<call> with the session token in the Authorization header (never a cookie, which the
 * browser would also send to other servers on 127.0.0.1). Events arrive as a server-sent
 * event stream read with fetch, which can carry that header where EventSource cannot;
 * it reconnects when the stream drops. Without a session, every call fails with the reason.
 */
export function createWebBridgeClient(session: WebSession, base = ''): AppApi {
  const headers = (extra: Record<string, string> = {}) =>
    'token' in session ? { ...extra, authorization: `Bearer ${session.token}` } : extra;
  const call = async (name: CallName, request: unknown) => {
    if ('problem' in session) throw new AppApiError(session.problem);
    const response = await fetch(`${base}/api/${name}`, {
      method: 'POST',
      headers: headers({ 'content-type': 'application/json' }),
      body: JSON.stringify(request ?? {}),
      credentials: 'omit',
      cache: 'no-store',
    });
    const body = (await response.json().catch(() => ({}))) as {
      result?: unknown;
      error?: AppErrorDto;
    };
    if (!response.ok || body.error) {
      throw new AppApiError(
        body.error ?? {
          code: 'http_error',
          message: `MCP Valet answered HTTP ${response.status}: reload the page, or restart \`mcp-valet serve --ui\``,
        },
      );
    }
    return body.result;
  };
  const api = Object.fromEntries(
    CALL_NAMES.map((name) => [name, (request: unknown) => call(name, request)]),
  ) as unknown as AppApi;
  const listeners = new Set<(event: AppEventDto) => void>();
  let stream: AbortController | undefined;

  const follow = async (signal: AbortSignal) => {
    let wait = RETRY_MS.first;
    while (!signal.aborted) {
      try {
        const response = await fetch(`${base}/api/events`, {
          headers: headers({ accept: 'text/event-stream' }),
          credentials: 'omit',
          cache: 'no-store',
          signal,
        });
        // Without a valid session, retrying cannot help; the calls show the reason.
        if (response.status === 401 || response.status === 403) return;
        if (response.ok && response.body) {
          wait = RETRY_MS.first;
          await readEventStream(response.body, (data) => {
            const event = JSON.parse(data) as AppEventDto;
            for (const l of listeners) l(event);
          });
        }
      } catch {
        // The stream dropped (or was stopped): reconnect below unless stopped.
      }
      await pause(wait, signal);
      wait = Math.min(wait * 2, RETRY_MS.max);
    }
  };

  api.subscribe = (listener) => {
    listeners.add(listener);
    if (!stream && 'token' in session) {
      stream = new AbortController();
      void follow(stream.signal);
    }
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) {
        stream?.abort();
        stream = undefined;
      }
    };
  };
  return api;
}
