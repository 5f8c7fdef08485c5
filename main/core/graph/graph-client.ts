import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../util/valet-error.ts';
import { GraphError, graphErrorFor, type GraphErrorBody } from './graph-errors.ts';
import { pathBelow } from './graph-link.ts';
import {
  DEFAULT_RETRY,
  isRetryable,
  parseRetryAfter,
  retryDelayMs,
  type RetryPolicy,
} from './retry-policy.ts';

/** One call to Graph. The token is used for this request only and never logged. */
export interface GraphRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under the base URL (`/me/messages`), or a full `@odata.nextLink` on the same base. */
  path: string;
  /**
   * Required when `path` is a full link: tests the link's decoded path below the base URL
   * (`/me/messages`), so that a link can only reach the resource the caller pages through.
   */
  linkPath?: (path: string) => boolean;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  token: string;
  /** The scopes the token carries, named in a 403 message. */
  scopes: string[];
  /**
   * Whose call this is (the account's home account ID): a back-off Graph asked of this user's
   * calls holds this one too, when the client has a throttle.
   */
  user?: string;
  /** Whether repeating the call is harmless; defaults to true for GET only. */
  idempotent?: boolean;
  signal?: AbortSignal;
}

/** A successful Graph response. */
export interface GraphResponse<T> {
  status: number;
  data: T;
  /** Graph's `request-id` response header, for the audit log and support cases. */
  requestId: string | undefined;
  attempts: number;
}

/**
 * The waits Graph asked for (429 or 503 with Retry-After), per user, shared by every caller of
 * that user's Graph: in remote mode, every instance, through the shared store.
 */
export interface GraphThrottle {
  /** How much longer calls for `user` must wait, in ms; 0 when they need not. */
  waitMs(user: string): Promise<number>;
  /** Graph asked calls for `user` to wait `ms`. */
  hold(user: string, ms: number): Promise<void>;
}

/** Settings for the Graph client. */
export interface GraphClientOptions {
  baseUrl: string;
  /** Per attempt. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
  random?: () => number;
  /** Shares Graph's back-off per user beyond this client (see GraphThrottle). */
  throttle?: GraphThrottle;
}

/**
 * A small Graph client over fetch: a configurable base URL, a timeout per attempt, retries
 * of 429/503/504 that honour Retry-After (else exponential backoff with jitter) within a
 * total time budget, 5xx retried only for idempotent calls, and Graph errors turned into
 * messages a person can act on.
 */
export class GraphClient {
  readonly baseUrl: string;
  readonly #base: URL;
  /** The base URL's path with a trailing slash: every request's path starts with it. */
  readonly #basePath: string;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #fetch: typeof fetch;
  readonly #random: () => number;
  readonly #throttle: GraphThrottle | undefined;

  constructor(options: GraphClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#base = new URL(this.baseUrl);
    this.#basePath = `${this.#base.pathname.replace(/\/+$/, '')}/`;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#fetch = options.fetch ?? fetch;
    this.#random = options.random ?? Math.random;
    this.#throttle = options.throttle;
  }

  async request<T>(req: GraphRequest): Promise<GraphResponse<T>> {
    const method = req.method ?? 'GET';
    const idempotent = req.idempotent ?? method === 'GET';
    const url = this.#url(req);
    const started = Date.now();
    const clientRequestId = randomUUID();
    await this.#waitForBackoff(req);
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.#fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${req.token}`,
            accept: 'application/json',
            'client-request-id': clientRequestId,
            ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...req.headers,
          },
          ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
          signal: req.signal
            ? AbortSignal.any([req.signal, AbortSignal.timeout(this.#timeoutMs)])
            : AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (err) {
        throw this.#networkError(err, req.signal);
      }
      const requestId = response.headers.get('request-id') ?? undefined;
      if (response.ok) {
        const text = await response.text();
        return {
          status: response.status,
          data: (text ? JSON.parse(text) : undefined) as T,
          requestId,
          attempts: attempt,
        };
      }
      const body = await readErrorBody(response);
      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
      const elapsedMs = Date.now() - started;
      const fail = () =>
        graphErrorFor({
          status: response.status,
          body,
          requestId,
          scopes: req.scopes,
          attempts: attempt,
          elapsedMs,
          retryAfterSeconds,
        });
      if (retryAfterSeconds !== undefined && (response.status === 429 || response.status === 503))
        await this.#holdBackoff(req, retryAfterSeconds * 1000);
      if (!isRetryable(response.status, idempotent) || attempt >= this.#retry.maxAttempts)
        throw fail();
      const wait = retryDelayMs(this.#retry, attempt, retryAfterSeconds, this.#random);
      if (elapsedMs + wait > this.#retry.budgetMs) throw fail();
      await sleep(wait, undefined, req.signal ? { signal: req.signal } : undefined).catch(() => {
        throw new GraphError('cancelled', 'The call was cancelled');
      });
    }
  }

  /**
   * Waits out a back-off Graph asked of this user's calls elsewhere (another call, another
   * instance) before sending, or gives up at once when it would overrun the budget. A throttle
   * that cannot answer holds nothing: Graph itself will say to wait again.
   */
  async #waitForBackoff(req: GraphRequest): Promise<void> {
    if (!this.#throttle || req.user === undefined) return;
    const waitMs = await this.#throttle.waitMs(req.user).catch(() => 0);
    if (waitMs <= 0) return;
    if (waitMs > this.#retry.budgetMs)
      throw new GraphError(
        'graph_throttled',
        `Microsoft Graph asked to hold this account's calls for another ${Math.ceil(waitMs / 1000)} s: try again then`,
        { status: 429 },
      );
    await sleep(waitMs, undefined, req.signal ? { signal: req.signal } : undefined).catch(() => {
      throw new GraphError('cancelled', 'The call was cancelled');
    });
  }

  async #holdBackoff(req: GraphRequest, ms: number): Promise<void> {
    if (!this.#throttle || req.user === undefined || ms <= 0) return;
    await this.#throttle.hold(req.user, ms).catch(() => undefined);
  }

  #url(req: GraphRequest): string {
    let url: URL;
    if (/^[a-z][a-z0-9+.-]*:/i.test(req.path) || req.path.startsWith('//')) {
      // Only follow paging links on our own Graph: the token must never go anywhere else.
      const below = pathBelow(req.path, this.#base);
      if (below === undefined) {
        throw new GraphError(
          'graph_bad_link',
          'That page link does not belong to Microsoft Graph: use the nextPageToken returned by the previous call',
        );
      }
      if (!req.linkPath?.(below)) {
        throw new GraphError(
          'graph_bad_link',
          'That page link is not a next page of this call: use the nextPageToken returned by the previous call',
        );
      }
      url = new URL(req.path);
    } else {
      url = new URL(`${this.baseUrl}${req.path.startsWith('/') ? '' : '/'}${req.path}`);
      // A dot segment in a tool's path (from an id, say) must not lead out of the base either.
      if (url.origin !== this.#base.origin || !url.pathname.startsWith(this.#basePath)) {
        throw new GraphError(
          'graph_bad_path',
          "That request leaves Microsoft Graph's base URL: use ids exactly as Graph returned them",
        );
      }
    }
    for (const [k, v] of Object.entries(req.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    return url.href;
  }

  #networkError(err: unknown, signal: AbortSignal | undefined): GraphError {
    if (signal?.aborted)
      return new GraphError('cancelled', 'The call was cancelled', { cause: err });
    const name = (err as { name?: string }).name;
    if (name === 'TimeoutError') {
      return new GraphError(
        'graph_timeout',
        `Microsoft Graph did not answer within ${this.#timeoutMs / 1000} s: try again later`,
        { cause: err },
      );
    }
    const code = (err as { cause?: { code?: string } }).cause?.code;
    return new GraphError(
      'graph_unreachable',
      `Cannot reach Microsoft Graph at ${new URL(this.baseUrl).host} (${code ?? describeError(err)}): check VALET_GRAPH_URL and your network`,
      { cause: err },
    );
  }
}

async function readErrorBody(response: Response): Promise<GraphErrorBody | undefined> {
  try {
    return (await response.json()) as GraphErrorBody;
  } catch {
    return undefined;
  }
}
