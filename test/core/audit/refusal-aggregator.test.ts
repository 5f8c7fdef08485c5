import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../../main/core/audit/audit-types.ts';
import { RefusalAggregator } from '../../../main/core/audit/refusal-aggregator.ts';

let written: AuditEvent[];
let aggregator: RefusalAggregator;
beforeEach(() => {
  vi.useFakeTimers();
  written = [];
  aggregator = new RefusalAggregator({ record: (e) => written.push(e) });
});
afterEach(() => vi.useRealTimers());

const fromPage = { type: 'endpoint_rejected', reason: 'origin', status: 403 } as const;
const counts = () => written.map((e) => e.details?.count);

describe('refusal aggregator', () => {
  it('writes the first refusal at once, then one record a second with the count of the rest', () => {
    aggregator.add({ ...fromPage, origin: 'https://evil.example' });
    expect(written).toEqual([
      {
        type: 'endpoint_rejected',
        outcome: 'rejected',
        details: { reason: 'origin', status: 403, source: 'https://evil.example', count: 1 },
      },
    ]);
    for (let i = 0; i < 2_500; i++) {
      aggregator.add({ ...fromPage, origin: 'https://evil.example' });
      vi.advanceTimersByTime(1);
    }
    // 2.5 s of refusals: the first alone, then one record at the end of each second.
    expect(counts()).toEqual([1, 1000, 1000]);
    vi.advanceTimersByTime(1_000);
    expect(counts()).toEqual([1, 1000, 1000, 500]);
    expect(written[1]!.details).toMatchObject({ since: expect.any(String) });
    // A quiet second ends the window: the next refusal is written at once again.
    vi.advanceTimersByTime(1_000);
    aggregator.add({ ...fromPage, origin: 'https://evil.example' });
    expect(counts()).toEqual([1, 1000, 1000, 500, 1]);
  });

  it('counts each source and reason apart: the key when known, else the Origin, else no origin', () => {
    aggregator.add({ ...fromPage, origin: 'https://a.example' });
    aggregator.add({ ...fromPage, origin: 'https://b.example' });
    aggregator.add({ type: 'endpoint_rejected', reason: 'missing', status: 401 });
    aggregator.add({ type: 'endpoint_rejected', reason: 'host', status: 403 });
    aggregator.add({
      type: 'endpoint_rejected',
      reason: 'revoked',
      status: 401,
      keyId: 'k1',
      origin: 'https://a.example',
    });
    expect(written.map((e) => [e.details?.reason, e.details?.source, e.actor?.keyId])).toEqual([
      ['origin', 'https://a.example', undefined],
      ['origin', 'https://b.example', undefined],
      ['missing', 'no origin', undefined],
      ['host', 'no origin', undefined],
      ['revoked', 'k1', 'k1'],
    ]);
  });

  it('writes rate limits per key, with the key and the latest retry-after', () => {
    const limited = {
      type: 'rate_limited',
      reason: 'rate',
      keyId: 'k1',
      keyName: 'noisy',
    } as const;
    aggregator.add({ ...limited, retryAfterSeconds: 1 });
    aggregator.add({ ...limited, retryAfterSeconds: 1 });
    aggregator.add({ ...limited, retryAfterSeconds: 2 });
    vi.advanceTimersByTime(1_000);
    expect(written).toEqual([
      {
        type: 'rate_limited',
        actor: { keyId: 'k1', keyName: 'noisy' },
        outcome: 'rejected',
        details: { reason: 'rate', retryAfterSeconds: 1, source: 'k1', count: 1 },
      },
      {
        type: 'rate_limited',
        actor: { keyId: 'k1', keyName: 'noisy' },
        outcome: 'rejected',
        details: {
          reason: 'rate',
          retryAfterSeconds: 2,
          source: 'k1',
          count: 2,
          since: expect.any(String),
        },
      },
    ]);
  });

  it('folds sources past the cap into one, so made-up Origins cannot multiply the records', () => {
    for (let i = 0; i < 5_000; i++)
      aggregator.add({ ...fromPage, origin: `https://x${i}.example` });
    vi.advanceTimersByTime(1_000);
    expect(written.length).toBeLessThanOrEqual(34);
    expect(written.map((e) => Number(e.details?.count)).reduce((a, b) => a + b)).toBe(5_000);
    expect(written.some((e) => e.details?.source === 'other sources')).toBe(true);
  });

  it('writes every pending count on flush, and nothing after it', () => {
    aggregator.add({ ...fromPage, origin: 'https://evil.example' });
    aggregator.add({ ...fromPage, origin: 'https://evil.example' });
    aggregator.add({ ...fromPage, origin: 'https://evil.example' });
    aggregator.flush();
    expect(counts()).toEqual([1, 2]);
    vi.advanceTimersByTime(5_000);
    expect(counts()).toEqual([1, 2]);
  });
});
