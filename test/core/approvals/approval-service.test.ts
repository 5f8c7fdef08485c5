import { describe, expect, it } from 'vitest';
import {
  ApprovalService,
  type PendingApproval,
} from '../../../main/core/approvals/approval-service.ts';
import { within } from '../../support/within.ts';

const request = {
  tool: 'send_mail',
  action: 'Send an email',
  key: { id: 'k1', name: 'claude' },
  client: { name: 'Claude', version: '1.0' },
  account: 'adele@contoso.test',
  summary: [{ label: 'To', value: 'alex@contoso.test' }],
};

function service() {
  let now = 1_000_000;
  const approvals = new ApprovalService(() => now);
  const requested: PendingApproval[] = [];
  approvals.on('approval-requested', (a) => requested.push(a));
  return { approvals, requested, advance: (ms: number) => (now += ms) };
}

describe('ApprovalService', () => {
  it('approve-for-N-minutes lets the same tool of the same key through until the window expires', async () => {
    const { approvals, requested, advance } = service();
    const first = approvals.request(request, 60_000);
    approvals.decide(requested[0]!.id, { kind: 'window', minutes: 5 });
    expect(await within(first, 'outcome of the approved call')).toBe('approved');
    advance(4 * 60_000);
    expect(await within(approvals.request(request, 60_000), 'outcome inside the window')).toBe(
      'approved-by-window',
    );
    // Another tool, or another key, still asks.
    void approvals.request({ ...request, tool: 'create_event' }, 60_000);
    void approvals.request({ ...request, key: { id: 'k2', name: 'cursor' } }, 60_000);
    expect(requested).toHaveLength(3);
    advance(60_001);
    const afterWindow = approvals.request(request, 60_000);
    expect(requested).toHaveLength(4);
    approvals.decide(requested[3]!.id, { kind: 'deny' });
    expect(await within(afterWindow, 'outcome of the denied call')).toBe('denied');
  });

  it('counts no decision in time as a deny, and then refuses a late decision', async () => {
    const { approvals, requested } = service();
    const decided: string[] = [];
    approvals.on('approval-decided', (d) => decided.push(d.outcome));
    expect(await within(approvals.request(request, 50), 'time-out of a 50 ms wait')).toBe(
      'timed-out',
    );
    expect(approvals.list()).toEqual([]);
    expect(() => approvals.decide(requested[0]!.id, { kind: 'once' })).toThrow(
      /No pending approval .*: it was decided already or timed out/,
    );
    expect(decided).toEqual(['timed-out']);
  });

  it('ends a wait when the client cancels the call', async () => {
    const { approvals } = service();
    const controller = new AbortController();
    const waiting = approvals.request(request, 60_000, controller.signal);
    controller.abort();
    expect(await within(waiting, 'end of the wait after the client cancelled')).toBe('cancelled');
    expect(approvals.list()).toEqual([]);
  });

  it('cancels at once, with no prompt, a request whose caller is already gone', async () => {
    const { approvals, requested } = service();
    const decided: string[] = [];
    approvals.on('approval-decided', (d) => decided.push(d.outcome));
    const outcome = approvals.request(request, 60_000, AbortSignal.abort());
    expect(await within(outcome, 'outcome of a request from a caller that is gone')).toBe(
      'cancelled',
    );
    expect(requested).toEqual([]);
    expect(approvals.list()).toEqual([]);
    expect(decided).toEqual([]);
  });

  it('shows a prompt only once its record is written, and never one whose record cannot be written', async () => {
    let release!: () => void;
    const written = new Promise<void>((resolve) => (release = resolve));
    const slow = new ApprovalService(Date.now, () => written);
    const shown: PendingApproval[] = [];
    slow.on('approval-requested', (a) => shown.push(a));
    const waiting = slow.request(request, 60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(shown).toEqual([]);
    expect(slow.list()).toEqual([]);
    release();
    await within(
      new Promise((r) => slow.once('approval-requested', r)),
      'the prompt once its record is written',
    );
    slow.decide(slow.list()[0]!.id, { kind: 'deny' });
    expect(await within(waiting, 'outcome of the denied call')).toBe('denied');

    const full = new ApprovalService(Date.now, () =>
      Promise.reject(new Error('no space left on device')),
    );
    full.on('approval-requested', (a) => shown.push(a));
    await expect(within(full.request(request, 60_000), 'refusal')).rejects.toThrow(
      'no space left on device',
    );
    expect(full.list()).toEqual([]);
    expect(shown).toHaveLength(1);
  });

  it("forgets a revoked key's windows", async () => {
    const { approvals, requested } = service();
    const first = approvals.request(request, 60_000);
    approvals.decide(requested[0]!.id, { kind: 'window', minutes: 60 });
    await within(first, 'outcome of the approved call');
    approvals.forgetKey('k1');
    void approvals.request(request, 60_000);
    expect(approvals.list()).toHaveLength(1);
  });

  it('refuses a window outside 1–1440 minutes', () => {
    const { approvals, requested } = service();
    void approvals.request(request, 60_000);
    expect(() => approvals.decide(requested[0]!.id, { kind: 'window', minutes: 0 })).toThrow(
      /1 to 1440/,
    );
    expect(approvals.list()).toHaveLength(1);
  });
});
