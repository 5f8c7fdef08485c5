import { describe, expect, it } from 'vitest';
import type {
  ApprovalOutcome,
  PendingApproval,
} from '../../../main/core/approvals/approval-service.ts';
import { isValetError } from '../../../main/core/util/valet-error.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { connectClient, useValet } from '../../support/valet.ts';
import { within } from '../../support/within.ts';
import { sendMailApproval } from '../../support/approval-request.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, {
  key: 'claude',
  configFile: { policy: { approvalTimeoutSeconds: 5 } },
});

const sent = () =>
  fx.valet.graph.requests.filter((r) => r.path === '/v1.0/me/sendMail' && r.status === 202);
const nextRequest = () =>
  within(
    new Promise<PendingApproval>((resolve) =>
      fx.valet.core.approvals.once('approval-requested', resolve),
    ),
    'approval prompt',
  );
/** The outcome of one approval, once it is decided (or times out, or is cancelled). */
const outcomeOf = (id: string) =>
  within(
    new Promise<ApprovalOutcome>((resolve) => {
      const on = (d: { id: string; outcome: ApprovalOutcome }) => {
        if (d.id !== id) return;
        fx.valet.core.approvals.off('approval-decided', on);
        resolve(d.outcome);
      };
      fx.valet.core.approvals.on('approval-decided', on);
    }),
    `decision on approval ${id}`,
  );
/** The result of a call, bounded so that a call that never answers fails the test at once. */
const answer = <T>(call: Promise<T>, ms = 5_000) => within(call, 'answer to the call', ms);
const mail = {
  to: ['alex@contoso.test'],
  subject: 'Quarterly numbers',
  body: 'Hi Alex,\nthe numbers are in.\nLine three\nLine four\nLine five\nLine six\nLine seven',
};
const text = (r: unknown) => JSON.stringify((r as { content?: unknown }).content);

describe('approvals through the endpoint', () => {
  it('waits for the user: no sendMail before approval, exactly one after', async () => {
    const { client } = await connectClient(fx.valet.endpoint.url, fx.secret, 'Claude');
    const before = sent().length;
    const asked = nextRequest();
    const call = client.callTool({ name: 'send_mail', arguments: mail });
    const pending = await asked;
    expect(pending).toMatchObject({
      tool: 'send_mail',
      action: 'Send an email',
      key: { name: 'claude' },
      client: { name: 'Claude' },
      account: adele.username,
    });
    expect(pending.summary).toEqual([
      { label: 'To', value: 'alex@contoso.test' },
      { label: 'Subject', value: 'Quarterly numbers' },
      {
        label: 'Body',
        value:
          'Hi Alex,\nthe numbers are in.\nLine three\nLine four\nLine five\nLine six\nLine seven',
      },
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(sent().length).toBe(before);
    fx.valet.core.approvals.decide(pending.id, { kind: 'once' });
    const result = await answer(call);
    expect(result.isError).toBeFalsy();
    expect(sent().length).toBe(before + 1);
  });

  it('does not run a denied call', async () => {
    const { client } = await connectClient(fx.valet.endpoint.url, fx.secret);
    const before = sent().length;
    const asked = nextRequest();
    const call = client.callTool({ name: 'send_mail', arguments: mail });
    fx.valet.core.approvals.decide((await asked).id, { kind: 'deny' });
    const result = await answer(call);
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('The user denied send_mail in MCP Valet: it was not run');
    expect(sent().length).toBe(before);
  });

  it('counts no decision in time as a deny', async () => {
    const { client } = await connectClient(fx.valet.endpoint.url, fx.secret);
    const before = sent().length;
    const started = Date.now();
    const result = await answer(client.callTool({ name: 'send_mail', arguments: mail }), 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_900);
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(
      'No one approved send_mail in MCP Valet within 5 seconds, so it was not run',
    );
    expect(sent().length).toBe(before);
    expect(fx.valet.core.approvals.list()).toEqual([]);
  });

  it('keeps two pending calls apart', async () => {
    const { client } = await connectClient(fx.valet.endpoint.url, fx.secret);
    const before = sent().length;
    const requests: PendingApproval[] = [];
    const both = new Promise<void>((resolve) => {
      const on = (a: PendingApproval) => {
        requests.push(a);
        if (requests.length === 2) {
          fx.valet.core.approvals.off('approval-requested', on);
          resolve();
        }
      };
      fx.valet.core.approvals.on('approval-requested', on);
    });
    const toAlex = client.callTool({
      name: 'send_mail',
      arguments: { ...mail, subject: 'For Alex' },
    });
    const toMegan = client.callTool({
      name: 'create_event',
      arguments: { subject: 'Planning', start: '2030-01-07T10:00:00', end: '2030-01-07T11:00:00' },
    });
    await within(both, 'two approval prompts');
    expect(
      fx.valet.core.approvals
        .list()
        .map((a) => a.tool)
        .sort(),
    ).toEqual(['create_event', 'send_mail']);
    const event = requests.find((a) => a.tool === 'create_event')!;
    expect(event.summary).toContainEqual({
      label: 'When',
      value: '2030-01-07T10:00:00 → 2030-01-07T11:00:00 (UTC)',
    });
    fx.valet.core.approvals.decide(event.id, { kind: 'deny' });
    fx.valet.core.approvals.decide(requests.find((a) => a.tool === 'send_mail')!.id, {
      kind: 'once',
    });
    expect((await answer(toAlex)).isError).toBeFalsy();
    expect(text(await answer(toMegan))).toContain('The user denied create_event');
    expect(sent().length).toBe(before + 1);
  });

  it('is not fooled by "approved": true or "confirm": true in the arguments', async () => {
    const { client } = await connectClient(fx.valet.endpoint.url, fx.secret);
    const before = sent().length;
    const asked = nextRequest();
    const call = client.callTool({
      name: 'send_mail',
      arguments: { ...mail, approved: true, confirm: true },
    });
    const pending = await asked;
    expect(sent().length).toBe(before);
    expect(pending.summary.map((l) => l.label)).not.toContain('approved');
    fx.valet.core.approvals.decide(pending.id, { kind: 'deny' });
    expect((await answer(call)).isError).toBe(true);
    expect(sent().length).toBe(before);
  });

  it('lets approve-for-N-minutes cover the next calls of that key and tool', async () => {
    const { secret: agent } = await fx.valet.createKey({ name: 'agent' });
    const { client } = await connectClient(fx.valet.endpoint.url, agent);
    const before = sent().length;
    const asked = nextRequest();
    const first = client.callTool({ name: 'send_mail', arguments: mail });
    fx.valet.core.approvals.decide((await asked).id, { kind: 'window', minutes: 10 });
    expect((await answer(first)).isError).toBeFalsy();
    let prompted = false;
    fx.valet.core.approvals.once('approval-requested', () => (prompted = true));
    expect(
      (await answer(client.callTool({ name: 'send_mail', arguments: mail }))).isError,
    ).toBeFalsy();
    expect(prompted).toBe(false);
    expect(sent().length).toBe(before + 2);
  });

  it("does not let one key's approve-for-N-minutes window through another key's send_mail", async () => {
    const { secret: first } = await fx.valet.createKey({ name: 'windowed' });
    const { secret: second } = await fx.valet.createKey({ name: 'other' });
    const a = (await connectClient(fx.valet.endpoint.url, first)).client;
    const b = (await connectClient(fx.valet.endpoint.url, second)).client;
    const before = sent().length;
    const asked = nextRequest();
    const fromA = a.callTool({ name: 'send_mail', arguments: mail });
    fx.valet.core.approvals.decide((await asked).id, { kind: 'window', minutes: 10 });
    expect((await answer(fromA)).isError).toBeFalsy();
    expect(sent().length).toBe(before + 1);

    const askedAgain = nextRequest();
    const fromB = b.callTool({ name: 'send_mail', arguments: mail });
    const pending = await askedAgain;
    expect(pending.key.name).toBe('other');
    expect(sent().length).toBe(before + 1);
    fx.valet.core.approvals.decide(pending.id, { kind: 'deny' });
    expect(text(await answer(fromB))).toContain('The user denied send_mail');
    expect(sent().length).toBe(before + 1);
  });

  it('ends the approve-for-N-minutes windows of a key when it is revoked', async () => {
    const { key, secret } = await fx.valet.createKey({ name: 'revoked-later' });
    const { client } = await connectClient(fx.valet.endpoint.url, secret);
    const asked = nextRequest();
    const first = client.callTool({ name: 'send_mail', arguments: mail });
    fx.valet.core.approvals.decide((await asked).id, { kind: 'window', minutes: 10 });
    expect((await answer(first)).isError).toBeFalsy();
    await fx.valet.core.revokeKey(key.id);

    // The key's next send_mail, had it one, would need the user again.
    const askedAgain = nextRequest();
    const outcome = fx.valet.core.approvals.request(sendMailApproval(key, adele.username), 5_000);
    fx.valet.core.approvals.decide((await askedAgain).id, { kind: 'deny' });
    expect(await within(outcome, "outcome of the revoked key's approval")).toBe('denied');
  });

  it('ends the prompt of a client that hangs up while send_mail waits, and sends nothing', async () => {
    const { client, transport } = await connectClient(fx.valet.endpoint.url, fx.secret);
    const before = sent().length;
    const asked = nextRequest();
    void client.callTool({ name: 'send_mail', arguments: mail }).catch(() => undefined);
    const pending = await asked;
    const outcome = outcomeOf(pending.id);
    await transport.close();
    expect(await outcome).toBe('cancelled');
    expect(fx.valet.core.approvals.list().map((a) => a.id)).not.toContain(pending.id);
    let refusal: unknown;
    try {
      fx.valet.core.approvals.decide(pending.id, { kind: 'once' });
    } catch (err) {
      refusal = err;
    }
    expect(isValetError(refusal, 'no_approval')).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(sent().length).toBe(before);
  });

  it('shows a client whose name hides a right-to-left override with the override marked', async () => {
    // The client names itself in initialize; "Claude\u202Eedualc" would read as "Claudeclaude".
    const { client, transport } = await connectClient(
      fx.valet.endpoint.url,
      fx.secret,
      'Claude\u202Eedualc',
    );
    const asked = nextRequest();
    const call = client.callTool({ name: 'send_mail', arguments: mail }).catch(() => undefined);
    const pending = await asked;
    expect(pending.client?.name).toBe('Claude⟦U+202E⟧edualc');
    fx.valet.core.approvals.decide(pending.id, { kind: 'deny' });
    await answer(call);
    await transport.close();
  });
});
