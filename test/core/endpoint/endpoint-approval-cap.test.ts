import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { useValet } from '../../support/valet.ts';
import { openRawSession, rawRequest, startRequest, toolCall, waitFor } from './raw-http.ts';

const [adele] = DEMO_USERS as [IdpUser];
const CAP = 2;
const fx = useValet(adele, {
  configFile: {
    policy: {
      rateLimits: {
        requestsPerMinute: 6_000,
        burst: 1_000,
        concurrentPerKey: CAP,
        concurrentTotal: 50,
      },
    },
  },
});

const mail = (n: number) => ({ to: ['alex@contoso.test'], subject: `note ${n}`, body: 'hello' });
const pendingFor = (keyId: string) =>
  fx.valet.core.approvals.list().filter((a) => a.key.id === keyId);

afterEach(() => {
  for (const a of fx.valet.core.approvals.list())
    fx.valet.core.approvals.decide(a.id, { kind: 'deny' });
});

describe('pending approvals and the in-flight cap', () => {
  it(`send_mail calls waiting for approval use the key's in-flight cap (${CAP}): the next POST gets 429`, async () => {
    const { key, secret } = await fx.valet.createKey({ name: 'waiting' });
    const sessionId = await openRawSession(fx.valet.endpoint.url, secret);
    const headers = { authorization: `Bearer ${secret}`, 'mcp-session-id': sessionId };
    for (let n = 1; n <= CAP; n++) {
      startRequest(fx.valet.endpoint.url, { headers, body: toolCall(n, 'send_mail', mail(n)) });
      await waitFor(() => pendingFor(key.id).length === n, `approval ${n} to be pending`);
    }
    const next = await rawRequest(fx.valet.endpoint.url, {
      headers,
      body: toolCall(99, 'auth_status'),
    });
    expect(next.status).toBe(429);
    expect(next.body).toContain("valet key 'waiting' has too many requests in flight");
  });

  it(`clients that hang up cannot leave more than ${CAP} prompts pending for one key`, async () => {
    const { key, secret } = await fx.valet.createKey({ name: 'hang-up' });
    const sessionId = await openRawSession(fx.valet.endpoint.url, secret);
    const headers = { authorization: `Bearer ${secret}`, 'mcp-session-id': sessionId };
    const statuses: number[] = [];
    let mostPending = 0;
    for (let n = 1; n <= 6; n++) {
      const call = startRequest(fx.valet.endpoint.url, {
        headers,
        body: toolCall(n, 'send_mail', mail(n)),
      });
      const { status } = await call.headers;
      statuses.push(status);
      if (status === 200)
        await waitFor(
          () =>
            fx.valet.core.approvals
              .list()
              .some((a) => a.summary.some((l) => l.value === `note ${n}`)),
          `the prompt of call ${n}`,
        );
      call.request.destroy();
      await new Promise((r) => setTimeout(r, 50));
      mostPending = Math.max(mostPending, pendingFor(key.id).length);
    }
    expect(mostPending).toBeLessThanOrEqual(CAP);
    // Each call was either refused at the door or had its slot until its prompt ended.
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
  });
});
