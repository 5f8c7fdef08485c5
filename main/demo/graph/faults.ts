import { GraphError } from './errors.ts';
import type { FaultRule } from './types.ts';

interface ArmedFault {
  rule: FaultRule;
  left: number;
}

/** What to do to one request: wait, then maybe fail. */
export interface FaultAction {
  latencyMs: number;
  error?: GraphError;
}

/** Injected faults, consumed in order of injection by the requests they match. */
export class FaultBook {
  #faults: ArmedFault[] = [];

  /** Adds a rule after the others; it applies to `times` matching requests (1 by default). */
  inject(rule: FaultRule): void {
    const times = rule.times ?? 1;
    if (!(times > 0)) throw new RangeError('FaultRule.times must be positive.');
    if (rule.latencyMs !== undefined && !(rule.latencyMs >= 0)) {
      throw new RangeError('FaultRule.latencyMs must not be negative.');
    }
    this.#faults.push({ rule: { ...rule }, left: times });
  }

  /** Forgets every rule. */
  clear(): void {
    this.#faults = [];
  }

  /** Takes one use of the first rule that matches the request, if any. */
  take(method: string, path: string): FaultAction | undefined {
    const armed = this.#faults.find((fault) => fault.left > 0 && matches(fault.rule, method, path));
    if (!armed) return undefined;
    armed.left -= 1;
    if (armed.left === 0) this.#faults = this.#faults.filter((fault) => fault !== armed);
    const { rule } = armed;
    return {
      latencyMs: rule.latencyMs ?? 0,
      ...(rule.status ? { error: faultError(rule.status, rule.retryAfterSeconds, path) } : {}),
    };
  }
}

function matches(rule: FaultRule, method: string, path: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) return false;
  if (rule.path === undefined) return true;
  if (typeof rule.path === 'string') return rule.path === path;
  rule.path.lastIndex = 0; // a /g or /y pattern keeps state between tests
  return rule.path.test(path);
}

/** Graph's throttling and outage answers; OneDrive words its throttling differently from the rest. */
function faultError(
  status: 429 | 503 | 504,
  retryAfter: number | undefined,
  path: string,
): GraphError {
  const seconds = retryAfter ?? (status === 429 ? 1 : undefined);
  const headers: Record<string, string> =
    seconds === undefined ? {} : { 'retry-after': String(Math.max(0, Math.ceil(seconds))) };
  if (status === 429) {
    const drive = /\/drive(\/|$)/.test(path);
    return new GraphError(
      429,
      drive ? 'activityLimitReached' : 'TooManyRequests',
      drive ? 'The request has been throttled' : 'Please retry again later.',
      {
        headers,
        inner: drive
          ? { code: 'throttledRequest' }
          : { code: '429', status: '429', message: 'Please retry after' },
      },
    );
  }
  if (status === 503) {
    return new GraphError(
      503,
      'serviceNotAvailable',
      'The service is temporarily unavailable. Please retry later.',
      { headers },
    );
  }
  return new GraphError(
    504,
    'GatewayTimeout',
    'The gateway did not receive a timely response from the service.',
    { headers },
  );
}
