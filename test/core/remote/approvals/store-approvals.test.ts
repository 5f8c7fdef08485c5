import { ErrorCode, UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalReach } from '../../../../main/core/remote/approvals/approval-reach.ts';
import type { StoredApproval } from '../../../../main/core/remote/approvals/approval-records.ts';
import {
  ADELE,
  ask,
  mail,
  MEGAN,
  startApprovalHarness,
  type ApprovalHarness,
  type ApprovalInstance,
} from '../../../support/remote-approvals.ts';
import { within } from '../../../support/within.ts';

let h: ApprovalHarness;

beforeEach(async () => {
  h = await startApprovalHarness();
});

afterEach(async () => {
  await h.close();
});

/** The one approval pending for Adele, once the call has stored it. */
async function pendingOf(instance: ApprovalInstance = h.b): Promise<StoredApproval> {
  for (let i = 0; i < 200; i++) {
    const [approval] = await instance.approvals.listFor(ADELE.oid);
    if (approval) return approval;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('no approval was stored for Adele');
}

/** Posts a decision from the page's form with `cookie` and `csrf`. */
function post(id: string, cookie: string, fields: Record<string, string>) {
  return h.fetch(`/approvals/${id}`, {
    method: 'POST',
    cookie,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

describe('an approval across instances', () => {
  it('a send_mail call waiting on instance A runs once its user approves it on instance B’s page', async () => {
    const call = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    const { cookie, session } = await h.signIn(ADELE);

    const page = await h.fetch(`/approvals/${approval.id}`, { cookie });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(html).toContain('<code id="tool">send_mail</code>');
    expect(html).toContain('nestor@contoso.test');
    expect(html).toContain('Q3 numbers');
    expect(html).toContain('Claude 1.0.0');
    expect(html).toContain('adele@contoso.test');
    expect(html).toContain('id="approve"');
    expect(html).toContain(`name="csrf" value="${session.csrf}"`);

    const decided = await post(approval.id, cookie, { csrf: session.csrf, decision: 'once' });
    expect(decided.status).toBe(303);
    await expect(within(call.outcome, 'the end of the call', 2_000)).resolves.toBe('approved');

    const after = await (await h.fetch(`/approvals/${approval.id}`, { cookie })).text();
    expect(after).toContain('Approved once: the call has run.');
    expect(after).not.toContain('id="approve"');
    expect(after).not.toContain('id="deny"');
  });

  it('the waiting call’s progress message carries the page’s link', async () => {
    const call = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    expect(call.progress).toContain(
      `Waiting for approval of send_mail: the user decides at ${h.url}/approvals/${approval.id}`,
    );
    await h.b.approvals.decide(approval.id, ADELE.oid, { kind: 'deny' });
    await call.outcome;
  });

  it('a missed message is harmless: the waiting instance finds the decision by re-reading', async () => {
    await h.close();
    h = await startApprovalHarness({ pollMs: 50 });
    const call = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    // A decision written straight into the store, with no message published.
    await h.b.store.set(
      `approval-outcome:${approval.id}`,
      JSON.stringify({
        status: 'denied',
        decision: { kind: 'deny' },
        at: new Date().toISOString(),
      }),
    );
    await expect(within(call.outcome, 'the end of the call', 2_000)).resolves.toBe('denied');
  });

  it('another user gets 403 from the page, told nothing of the approval, and it stays pending', async () => {
    const call = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    const megan = await h.signIn(MEGAN);

    const page = await h.fetch(`/approvals/${approval.id}`, { cookie: megan.cookie });
    const html = await page.text();
    expect(page.status).toBe(403);
    for (const secret of ['Q3 numbers', 'nestor@contoso.test', 'send_mail', 'adele@contoso.test'])
      expect(html).not.toContain(secret);
    const posted = await post(approval.id, megan.cookie, {
      csrf: megan.session.csrf,
      decision: 'once',
    });
    expect(posted.status).toBe(403);
    await expect(h.a.approvals.decide(approval.id, MEGAN.oid, { kind: 'once' })).rejects.toThrow(
      'not yours',
    );

    expect((await h.a.approvals.get(approval.id))?.status).toBe('pending');
    await h.b.approvals.decide(approval.id, ADELE.oid, { kind: 'deny' });
    await expect(call.outcome).resolves.toBe('denied');
  });

  it('a browser with no session is sent to sign in, and comes back to the approval', async () => {
    const call = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    for (const res of [
      await h.fetch(`/approvals/${approval.id}`),
      await post(approval.id, '', { decision: 'once' }),
    ]) {
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(
        `/auth/login?returnTo=${encodeURIComponent(`/approvals/${approval.id}`)}`,
      );
    }
    expect((await h.a.approvals.get(approval.id))?.status).toBe('pending');
    await h.b.approvals.decide(approval.id, ADELE.oid, { kind: 'deny' });
    await call.outcome;
  });

  it('a post without the session’s CSRF token, or with another, is refused with 403 and decides nothing', async () => {
    const call = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    const { cookie } = await h.signIn(ADELE);
    const other = await h.signIn(ADELE);
    expect((await post(approval.id, cookie, { decision: 'once' })).status).toBe(403);
    expect(
      (await post(approval.id, cookie, { csrf: other.session.csrf, decision: 'once' })).status,
    ).toBe(403);
    expect((await h.a.approvals.get(approval.id))?.status).toBe('pending');
    await h.b.approvals.decide(approval.id, ADELE.oid, { kind: 'deny' });
    await call.outcome;
  });

  it('deny on the page: the waiting call is denied, and the page says so with no buttons', async () => {
    const call = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    const { cookie, session } = await h.signIn(ADELE);
    await post(approval.id, cookie, { csrf: session.csrf, decision: 'deny' });
    await expect(within(call.outcome, 'the end of the call', 2_000)).resolves.toBe('denied');
    const html = await (await h.fetch(`/approvals/${approval.id}`, { cookie })).text();
    expect(html).toContain('Denied: it was not run.');
    expect(html).not.toContain('id="approve"');
  });

  it('no decision in time is a denial whose text links the page, and the page says it timed out', async () => {
    const call = ask(h.a, mail('Q3 numbers'), { timeoutSeconds: 0.3 });
    const approval = await pendingOf();
    await expect(within(call.outcome, 'the end of the call', 3_000)).rejects.toMatchObject({
      code: 'approval_timed-out',
      message: expect.stringContaining(`${h.url}/approvals/${approval.id}`),
    });
    const { cookie, session } = await h.signIn(ADELE);
    const html = await (await h.fetch(`/approvals/${approval.id}`, { cookie })).text();
    expect(html).toContain('No decision in time, so it was not run.');
    expect(html).not.toContain('id="approve"');
    // A late click decides nothing.
    await post(approval.id, cookie, { csrf: session.csrf, decision: 'once' });
    expect((await h.b.approvals.get(approval.id))?.status).toBe('timed-out');
    expect(h.a.audit.map((e) => [e.type, e.outcome])).toEqual([
      ['approval_requested', 'pending'],
      ['approval_decided', 'timed-out'],
    ]);
  });

  it('a client that hangs up cancels its approval, and the page says so', async () => {
    const hangUp = new AbortController();
    const call = ask(h.a, mail('Q3 numbers'), { signal: hangUp.signal });
    const approval = await pendingOf();
    hangUp.abort();
    await expect(within(call.outcome, 'the end of the call', 2_000)).resolves.toBe('cancelled');
    const { cookie } = await h.signIn(ADELE);
    const html = await (await h.fetch(`/approvals/${approval.id}`, { cookie })).text();
    expect(html).toContain('Cancelled: the client stopped waiting, so it was not run.');
    expect(html).not.toContain('id="approve"');
  });

  it('approve for 5 minutes lets the next send_mail of the key through without asking, until the window ends', async () => {
    const first = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    const { cookie, session } = await h.signIn(ADELE);
    await post(approval.id, cookie, { csrf: session.csrf, decision: 'window', minutes: '5' });
    await expect(within(first.outcome, 'the end of the call', 2_000)).resolves.toBe('approved');
    const page = await (await h.fetch(`/approvals/${approval.id}`, { cookie })).text();
    expect(page).toContain('Approved for 5 minutes');

    h.advance(4 * 60_000);
    await expect(ask(h.a, mail('Q4 plans')).outcome).resolves.toBe('approved-by-window');
    expect(await h.b.approvals.listFor(ADELE.oid)).toEqual([]);

    h.advance(60_001);
    const late = ask(h.a, mail('Q1 review'));
    const asked = await pendingOf();
    expect(asked.summary).toContainEqual({ label: 'Subject', value: 'Q1 review' });
    await h.b.approvals.decide(asked.id, ADELE.oid, { kind: 'deny' });
    await expect(late.outcome).resolves.toBe('denied');
  });

  it('a window of more than a day, or of no whole minutes, is refused on the page and nothing is decided', async () => {
    const call = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    const { cookie, session } = await h.signIn(ADELE);
    for (const minutes of ['1441', '0', '2.5', 'soon']) {
      const res = await post(approval.id, cookie, {
        csrf: session.csrf,
        decision: 'window',
        minutes,
      });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('is not a whole number of minutes from 1 to 1440');
    }
    expect((await h.a.approvals.get(approval.id))?.status).toBe('pending');
    await h.b.approvals.decide(approval.id, ADELE.oid, { kind: 'deny' });
    await call.outcome;
  });
});

describe('the approval ID', () => {
  it('the same call retried after instance A stopped finds the same approval and its decision', async () => {
    const call = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    await h.a.approvals.close();
    await call.outcome;
    expect((await h.b.approvals.get(approval.id))?.status).toBe('pending');
    await h.b.approvals.decide(approval.id, ADELE.oid, { kind: 'once' });

    const restarted = h.instance();
    // The same arguments in another order are the same call.
    const retry = ask(restarted, {
      body: 'The quarterly numbers are attached.',
      subject: 'Q3 numbers',
      to: ['nestor@contoso.test'],
    });
    await expect(within(retry.outcome, 'the end of the call', 2_000)).resolves.toBe('approved');
    expect(restarted.audit).toEqual([]);

    // The decision was used: the same mail once more asks again, at a new address.
    const again = ask(restarted, mail('Q3 numbers'));
    const next = await pendingOf();
    expect(next.id).not.toBe(approval.id);
    await h.b.approvals.decide(next.id, ADELE.oid, { kind: 'deny' });
    await expect(again.outcome).resolves.toBe('denied');
  });

  it('a retry after a denial is denied without asking; another mail asks', async () => {
    const call = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    await h.b.approvals.decide(approval.id, ADELE.oid, { kind: 'deny' });
    await expect(call.outcome).resolves.toBe('denied');
    await expect(ask(h.b, mail('Q3 numbers')).outcome).resolves.toBe('denied');
    const other = ask(h.b, mail('Q3 numbers', 'lynne@contoso.test'));
    const asked = await pendingOf();
    expect(asked.id).not.toBe(approval.id);
    await h.b.approvals.decide(asked.id, ADELE.oid, { kind: 'deny' });
    await other.outcome;
  });

  it('a call retried after it timed out asks again on the same page', async () => {
    const first = ask(h.a, mail('Q3 numbers'), { timeoutSeconds: 0.2 });
    const approval = await pendingOf();
    await expect(within(first.outcome, 'the end of the call', 3_000)).rejects.toMatchObject({
      code: 'approval_timed-out',
    });
    const retry = ask(h.b, mail('Q3 numbers'));
    const reopened = await pendingOf();
    expect(reopened.id).toBe(approval.id);
    await h.b.approvals.decide(approval.id, ADELE.oid, { kind: 'once' });
    await expect(within(retry.outcome, 'the end of the call', 2_000)).resolves.toBe('approved');
  });
});

describe('reaching the user', () => {
  it('a client that declared URL elicitation gets −32042 naming the page at once, and its retry finds the decision', async () => {
    const reach = ApprovalReach.forClient({ elicitation: { url: {} } });
    const call = ask(h.a, mail('Q3 numbers'), { reach });
    await expect(within(call.outcome, 'the end of the call', 2_000)).rejects.toMatchObject({
      code: 'approval_required',
    });
    const approval = await pendingOf();
    let thrown: unknown;
    try {
      reach.throwIfRequired();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UrlElicitationRequiredError);
    const error = thrown as UrlElicitationRequiredError;
    expect(error.code).toBe(ErrorCode.UrlElicitationRequired);
    expect(error.code).toBe(-32042);
    expect(error.elicitations).toEqual([
      {
        mode: 'url',
        elicitationId: approval.id,
        url: `${h.url}/approvals/${approval.id}`,
        message: expect.stringContaining(`${h.url}/approvals/${approval.id}`),
      },
    ]);

    const { cookie, session } = await h.signIn(ADELE);
    await post(approval.id, cookie, { csrf: session.csrf, decision: 'once' });
    const retryReach = ApprovalReach.forClient({ elicitation: { url: {} } });
    await expect(ask(h.b, mail('Q3 numbers'), { reach: retryReach }).outcome).resolves.toBe(
      'approved',
    );
    expect(() => retryReach.throwIfRequired()).not.toThrow();
  });

  it('a client without URL elicitation is not sent −32042: its call waits', async () => {
    const reach = ApprovalReach.forClient({ elicitation: { form: {} } });
    const call = ask(h.a, mail('Q3 numbers'), { reach });
    const approval = await pendingOf();
    expect(reach.required).toBeUndefined();
    await h.b.approvals.decide(approval.id, ADELE.oid, { kind: 'once' });
    await expect(call.outcome).resolves.toBe('approved');
  });
});

describe('what the store holds', () => {
  it('the summary is sealed under the cache key: no recipient or subject is readable in the record', async () => {
    const call = ask(h.a, mail('Merger with Fabrikam'));
    const approval = await pendingOf();
    const raw = JSON.stringify(await h.a.store.hGetAll(`approval:${approval.id}`));
    expect(raw).not.toContain('Merger with Fabrikam');
    expect(raw).not.toContain('nestor@contoso.test');
    expect(raw).not.toContain('quarterly numbers');
    expect(approval.summary).toContainEqual({ label: 'Subject', value: 'Merger with Fabrikam' });
    expect(await h.a.store.hGet(`approval:${approval.id}`, 'oid')).toBe(ADELE.oid);
    await h.b.approvals.decide(approval.id, ADELE.oid, { kind: 'deny' });
    await call.outcome;
  });

  it('each instance audits what it writes: the request where the call waits, the decision where it is made', async () => {
    const call = ask(h.a, mail('Q3 numbers'));
    const approval = await pendingOf();
    const { cookie, session } = await h.signIn(ADELE);
    await post(approval.id, cookie, { csrf: session.csrf, decision: 'window', minutes: '5' });
    await call.outcome;
    expect(h.a.audit).toEqual([
      {
        type: 'approval_requested',
        actor: { keyId: 'k1', keyName: 'claude', account: ADELE.username, client: 'Claude 1.0.0' },
        outcome: 'pending',
        details: { tool: 'send_mail', approvalId: approval.id },
      },
    ]);
    expect(h.b.audit).toEqual([
      {
        type: 'approval_decided',
        actor: { keyId: 'k1', keyName: 'claude', account: ADELE.username },
        outcome: 'approved',
        details: { tool: 'send_mail', approvalId: approval.id, minutes: 5 },
      },
    ]);
    expect(JSON.stringify([...h.a.audit, ...h.b.audit])).not.toContain('Q3 numbers');
  });
});
