import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  isJSONRPCRequest,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { ValetError } from '../core/util/valet-error.ts';

/** One session with the endpoint. */
export interface Upstream {
  transport: StreamableHTTPClientTransport;
  url: string;
  /** The session or the endpoint is gone: nothing more is sent through it, the key least of all. */
  broken: boolean;
  /** The session's event stream is open: if the endpoint goes away, its end says so at once. */
  streaming: boolean;
  /** Requests sent through it so far. */
  sent: number;
}

/** What an upstream reports. */
export interface UpstreamHooks {
  /** A message from the endpoint. */
  message(message: JSONRPCMessage): void;
  /**
   * A response stream ended, after the transport handed on what it read; `ids` are the
   * requests of its POST (none for the event stream).
   */
  ended(upstream: Upstream, ids: RequestId[]): void;
}

/**
 * A session-to-be with the endpoint at `url` (found, and when local proven, by the caller):
 * a transport, not yet started, that adds the valet key to its requests while it is sound.
 */
export function createUpstream(url: string, key: string, hooks: UpstreamHooks): Upstream {
  const origin = new URL(url).origin;
  const upstream = { url, broken: false, streaming: false, sent: 0 } as Upstream;
  const keyed = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    // The key goes only to the origin that was just found (and proven), while it is sound.
    if (upstream.broken || new URL(input).origin !== origin)
      throw new ValetError('session_lost', `not sending the valet key to ${String(input)}`);
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${key}`);
    const response = await fetch(input, { ...init, headers }).catch((err: unknown) => {
      upstream.broken = true;
      throw err;
    });
    if (response.status === 404 && headers.has('mcp-session-id')) upstream.broken = true;
    return watch(upstream, response, init, hooks);
  };
  upstream.transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: keyed,
    // The bridge opens new sessions itself; the transport must not try the old one again.
    reconnectionOptions: {
      maxRetries: 0,
      initialReconnectionDelay: 0,
      maxReconnectionDelay: 0,
      reconnectionDelayGrowFactor: 1,
    },
  });
  upstream.transport.onmessage = (message) => hooks.message(message);
  // Every failure reaches the bridge through send() or the end of a stream, handled there.
  upstream.transport.onerror = () => undefined;
  return upstream;
}

/**
 * Watches a response stream: when the session's event stream (GET) ends, the session is
 * gone; when a POST's stream ends, any request of it still unanswered was lost with it.
 */
function watch(
  upstream: Upstream,
  response: Response,
  init: RequestInit | undefined,
  hooks: UpstreamHooks,
): Response {
  if (!response.ok || !response.body) return response;
  const ids = requestIds(init);
  const events = init?.method === 'GET';
  if (events) upstream.streaming = true;
  const ended = () => {
    if (events) {
      upstream.streaming = false;
      upstream.broken = true;
    }
    // Let the transport hand on what it read before the end.
    setImmediate(() => hooks.ended(upstream, ids));
  };
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          ended();
        } else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
        ended();
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** The ids of the requests in a POST body. */
function requestIds(init: RequestInit | undefined): RequestId[] {
  if (init?.method !== 'POST' || typeof init.body !== 'string') return [];
  try {
    const parsed = JSON.parse(init.body) as unknown;
    return (Array.isArray(parsed) ? parsed : [parsed])
      .filter((m): m is JSONRPCRequest => isJSONRPCRequest(m))
      .map((m) => m.id);
  } catch {
    return [];
  }
}
