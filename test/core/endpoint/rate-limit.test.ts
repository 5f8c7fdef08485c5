import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../main/core/audit/audit-types.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { connectClient, useValet } from '../../support/valet.ts';
import { rawRequest, waitFor } from './raw-http.ts';
import { auditRecords } from '../../support/audit-records.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, {
  configFile: {
    policy: {
      rateLimits: { requestsPerMinute: 60, burst: 5, concurrentPerKey: 2, concurrentTotal: 50 },
    },
  },
});

/** An initialize from a key: the status, and Retry-After when it is refused. */
async function post(secret: string): Promise<{ status: number; retryAfter: string | undefined }> {
  const res = await rawRequest(fx.valet.endpoint.url, {
    headers: { authorization: `Bearer ${secret}` },
  });
  return { status: res.status, retryAfter: res.headers['retry-after'] as string | undefined };
}

describe('rate limits', () => {
  it('refuses a burst over the limit with 429 and Retry-After, leaves other keys alone, and recovers', async () => {
    const { secret: noisy } = await fx.valet.createKey({ name: 'noisy' });
    const { secret: quiet } = await fx.valet.createKey({ name: 'quiet' });
    const burst = [];
    for (let i = 0; i < 8; i++) burst.push(await post(noisy));
    expect(burst.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(burst.slice(5).map((r) => r.status)).toEqual([429, 429, 429]);
    expect(burst[5]!.retryAfter).toBe('1');
    // The other key is not slowed down.
    expect((await post(quiet)).status).toBe(200);
    // One request per second comes back.
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await post(noisy)).status).toBe(200);
    expect((await post(noisy)).status).toBe(429);
    // Refusals are audited as counts, one record a second per key and reason at most.
    let limited: AuditRecord[] = [];
    const counted = () => limited.reduce((n, r) => n + Number(r.details?.count ?? 1), 0);
    await waitFor(
      () => counted() >= 4,
      'four refusals counted in the audit log',
      5_000,
      async () => {
        limited = await auditRecords(
          fx.valet.core.audit.dir,
          (r) => r.type === 'rate_limited' && r.actor?.keyName === 'noisy',
        );
      },
    );
    expect(counted()).toBe(4);
    expect(limited[0]).toMatchObject({
      actor: { keyName: 'noisy' },
      outcome: 'rejected',
      details: { reason: 'rate' },
    });
  });

  it('caps the calls one key has in flight', async () => {
    const { secret } = await fx.valet.createKey({ name: 'parallel' });
    const { client } = await connectClient(fx.valet.endpoint.url, secret);
    fx.valet.graph.inject({ path: '/v1.0/me/messages', latencyMs: 800, times: 3 });
    const results = await Promise.allSettled(
      [0, 1, 2].map(() => client.callTool({ name: 'list_messages', arguments: { top: 1 } })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(String(refused.reason)).toMatch(
      /Too many requests: valet key 'parallel' has too many requests in flight; retry after 1 s/,
    );
  });
});
