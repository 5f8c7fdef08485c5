import {
  CALL_NAMES,
  type AppApi,
  type AppErrorDto,
  type AppEventDto,
  type CallName,
} from '../../../preload/contract.ts';

/** A failed call, with the code and message the core gave. */
export class AppApiError extends Error {
  readonly code: string;

  constructor(error: AppErrorDto) {
    super(error.message);
    this.name = 'AppApiError';
    this.code = error.code;
  }
}

/**
 * The AppApi over the web bridge of `mcp-valet serve --ui`: each call is a POST to
 * /api/<call>, events arrive over server-sent events. The session cookie (HttpOnly) goes
 * along by itself; the page never sees a secret.
 */
export function createWebBridgeClient(base = ''): AppApi {
  const call = async (name: CallName, request: unknown) => {
    const response = await fetch(`${base}/api/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request ?? {}),
      credentials: 'same-origin',
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
  let source: EventSource | undefined;
  api.subscribe = (listener) => {
    listeners.add(listener);
    if (!source) {
      source = new EventSource(`${base}/api/events`, { withCredentials: true });
      source.onmessage = (message) => {
        const event = JSON.parse(String(message.data)) as AppEventDto;
        for (const l of listeners) l(event);
      };
    }
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) {
        source?.close();
        source = undefined;
      }
    };
  };
  return api;
}
