/** When and how long to wait before retrying a Graph request. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The first backoff, doubled each retry (before jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The whole request, every attempt and wait included, must end within this. */
  budgetMs: number;
}

/** Defaults: generous enough for Graph's usual throttling, bounded so a call never hangs. */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  budgetMs: 60_000,
};

/**
 * Whether a status is worth retrying. 429 means the request was not processed, so it is
 * always retried; 5xx may have had an effect, so only idempotent requests retry it.
 */
export function isRetryable(status: number, idempotent: boolean): boolean {
  if (status === 429) return true;
  return idempotent && (status === 500 || status === 502 || status === 503 || status === 504);
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The wait before retry number `retry` (1-based): Retry-After when given, else exponential backoff with full jitter. */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  retryAfterSeconds: number | undefined,
  random: () => number,
): number {
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(random() * ceiling);
}
