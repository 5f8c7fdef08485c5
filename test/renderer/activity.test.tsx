// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ActivityDto } from '../../preload/contract.ts';
import { InMemoryApi } from './in-memory-api.ts';
import { openView, renderApp } from './render-app.tsx';

/** The data rows of the activity table, top to bottom. */
function rows(): HTMLElement[] {
  const table = screen.getByRole('table', { name: 'Activity, newest first' });
  return within(table).getAllByRole('row').slice(1);
}

function withHistory(): InMemoryApi {
  const api = new InMemoryApi();
  api.keys = [
    {
      id: 'k1',
      name: 'vscode',
      tools: ['list_messages'],
      readOnly: false,
      account: null,
      createdAt: '2026-01-01T00:00:00Z',
    },
    {
      id: 'k2',
      name: 'claude',
      tools: ['send_mail'],
      readOnly: false,
      account: null,
      createdAt: '2026-01-01T00:00:00Z',
    },
  ];
  api.seedActivity(55);
  api.seedActivity(5, {
    tool: 'send_mail',
    keyName: 'claude',
    outcome: 'denied',
    reason: 'send_mail requires the app role Valet.Mail.Send',
  });
  return api;
}

describe('Activity view', () => {
  it('shows the newest entries first, with client, tool, outcome, duration and request id', async () => {
    const { user } = await renderApp(withHistory());
    await openView(user, 'Activity');
    await waitFor(() => expect(rows()).toHaveLength(50));
    const top = rows()[0]!;
    expect(within(top).getByText('claude')).toBeTruthy();
    expect(within(top).getByText('(Visual Studio Code 1.101.0)')).toBeTruthy();
    expect(within(top).getByText('send_mail')).toBeTruthy();
    expect(within(top).getByText('denied')).toBeTruthy();
    expect(within(top).getByText(/requires the app role Valet.Mail.Send/)).toBeTruthy();
    expect(within(top).getByText('120 ms')).toBeTruthy();
    expect(within(top).getByText('req-60')).toBeTruthy();
  });

  it('puts a pushed entry at the top at once and pages back with Load older', async () => {
    const { api, user } = await renderApp(withHistory());
    await openView(user, 'Activity');
    await waitFor(() => expect(rows()).toHaveLength(50));

    api.pushActivity({ tool: 'get_message', graphRequestIds: ['fresh-request'] });
    await waitFor(() => expect(within(rows()[0]!).getByText('fresh-request')).toBeTruthy());
    expect(screen.getByText('New activity: get_message, allowed').getAttribute('role')).toBe(
      'status',
    );

    await user.click(screen.getByRole('button', { name: 'Load older' }));
    await waitFor(() => expect(rows()).toHaveLength(61));
    expect(within(rows().at(-1)!).getByText('req-1')).toBeTruthy();
    expect(api.callsTo('listActivity').at(-1)).toEqual({ limit: 50, before: 11 });
    expect(screen.queryByRole('button', { name: 'Load older' })).toBeNull();
  });

  it('filters by client, tool and outcome, also for pushed entries', async () => {
    const { api, user } = await renderApp(withHistory());
    await openView(user, 'Activity');
    await waitFor(() => expect(rows()).toHaveLength(50));

    await user.selectOptions(screen.getByLabelText('Tool'), 'send_mail');
    await waitFor(() => expect(rows()).toHaveLength(5));
    expect(api.callsTo('listActivity').at(-1)).toEqual({ tool: 'send_mail', limit: 50 });
    await screen.findByRole('option', { name: 'claude' });
    await user.selectOptions(screen.getByLabelText('Client'), 'claude');
    await user.selectOptions(screen.getByLabelText('Outcome'), 'denied');
    await waitFor(() =>
      expect(api.callsTo('listActivity').at(-1)).toEqual({
        tool: 'send_mail',
        keyName: 'claude',
        outcome: 'denied',
        limit: 50,
      }),
    );

    api.pushActivity({ tool: 'list_messages', graphRequestIds: ['not-shown'] });
    api.pushActivity({
      tool: 'send_mail',
      keyName: 'claude',
      outcome: 'denied',
      graphRequestIds: ['shown'],
    });
    await waitFor(() => expect(within(rows()[0]!).getByText('shown')).toBeTruthy());
    expect(screen.queryByText('not-shown')).toBeNull();

    await user.selectOptions(screen.getByLabelText('Outcome'), 'failed');
    expect(await screen.findByText('No activity matches these filters.')).toBeTruthy();
  });

  it('shows a failed load where the log would be', async () => {
    const api = withHistory();
    const { user } = await renderApp(api);
    // The Status view's latest-call tile asks first: the failure is meant for the Activity view.
    await waitFor(() => expect(api.callsTo('listActivity')).toHaveLength(1));
    api.failNext('listActivity', 'The audit log cannot be read: permission denied');
    await openView(user, 'Activity');
    expect((await screen.findByRole('alert')).textContent).toBe(
      'The audit log cannot be read: permission denied',
    );
    await user.selectOptions(screen.getByLabelText('Tool'), 'list_messages');
    await waitFor(() => expect(rows()).toHaveLength(50));
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

const NOW = Date.parse('2026-11-29T12:00:30Z');

/** A call of the chart's data, made at `time` (UTC, on the day of NOW). */
function callAt(time: string, outcome: string, durationMs: number, seq: number): ActivityDto {
  return {
    seq,
    time: `2026-11-29T${time}Z`,
    type: 'tool_call',
    outcome,
    tool: 'list_messages',
    keyName: 'vscode',
    client: null,
    account: null,
    durationMs,
    graphRequestIds: [],
    reason: null,
  };
}

function chartFigure(): HTMLElement {
  return screen.getByRole('figure', { name: /^Tool calls by outcome, last hour/ });
}

describe('Activity chart', () => {
  it('draws the last hour as bars by outcome, each as tall as its calls, with the totals and latency in words', async () => {
    const api = new InMemoryApi();
    api.now = () => NOW;
    api.activity = [
      callAt('10:30:00', 'allowed', 9000, 1),
      callAt('11:58:10', 'allowed', 100, 2),
      callAt('11:58:20', 'allowed', 200, 3),
      callAt('11:58:30', 'denied', 5, 4),
      callAt('11:59:59', 'allowed', 300, 5),
      callAt('12:00:10', 'failed', 50, 6),
      callAt('12:00:20', 'allowed', 400, 7),
    ];
    const { user } = await renderApp(api);
    await openView(user, 'Activity');
    const figure = await waitFor(chartFigure);

    // The call at 10:30 is older than the hour shown.
    expect(
      within(figure).getByText(
        '6 calls: 4 allowed, 1 denied, 1 failed. Latency p50 100 ms, p95 400 ms.',
      ),
    ).toBeTruthy();
    const groups = [...figure.querySelectorAll('g.chart-bucket')];
    expect(groups).toHaveLength(30);
    const bars = (g: Element) =>
      [...g.querySelectorAll('rect.bar')].map((r) => ({
        outcome: r.getAttribute('data-outcome'),
        calls: Number(r.getAttribute('data-calls')),
        height: Number(r.getAttribute('height')),
      }));
    expect(groups.slice(0, 28).flatMap(bars)).toEqual([]);
    const [before, last] = [bars(groups[28]!), bars(groups[29]!)];
    expect(before.map((b) => [b.outcome, b.calls])).toEqual([
      ['allowed', 3],
      ['denied', 1],
    ]);
    expect(last.map((b) => [b.outcome, b.calls])).toEqual([
      ['allowed', 1],
      ['failed', 1],
    ]);
    // Heights follow the counts: one call is as tall everywhere, and 3 calls three times that.
    const unit = before[1]!.height;
    expect(unit).toBeGreaterThan(0);
    for (const b of [...before, ...last]) expect(b.height).toBeCloseTo(unit * b.calls, 6);
    expect(groups[28]!.querySelector('title')?.textContent).toMatch(
      /3 allowed, 1 denied, 0 failed; p50 100 ms, p95 300 ms$/,
    );

    // The same slices as a table for screen readers.
    const table = within(figure).getByRole('table', { name: 'Calls per 2 min, oldest first' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(30);
    expect(
      within(rows[28]!)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['3', '1', '0', '100 ms', '300 ms']);
    expect(
      within(rows[0]!)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['0', '0', '0', '—', '—']);

    // The window's CSP refuses inline styles: the chart sets none.
    expect(figure.hasAttribute('style')).toBe(false);
    expect(figure.querySelectorAll('[style]')).toHaveLength(0);
  });

  it('says so when there were no calls in the period, and asks for the period picked', async () => {
    const api = new InMemoryApi();
    const { user } = await renderApp(api);
    await openView(user, 'Activity');
    await within(await waitFor(chartFigure)).findByText('No tool calls in this period.');
    expect(api.callsTo('getActivityChart')).toEqual([{ minutes: 60, buckets: 30 }]);
    await user.selectOptions(screen.getByLabelText('Period'), 'Last 7 days');
    await screen.findByRole('figure', { name: /last 7 days/ });
    expect(api.callsTo('getActivityChart').at(-1)).toEqual({ minutes: 10_080, buckets: 84 });
  });

  it('follows new calls, fetching the chart again at most once a second however many arrive', async () => {
    const api = new InMemoryApi();
    const { user } = await renderApp(api);
    await openView(user, 'Activity');
    await within(await waitFor(chartFigure)).findByText('No tool calls in this period.');
    expect(api.callsTo('getActivityChart')).toHaveLength(1);

    for (let i = 0; i < 20; i++)
      api.pushActivity({ outcome: i % 4 === 0 ? 'denied' : 'allowed', durationMs: 10 + i });
    expect(
      await within(chartFigure()).findByText(
        /^20 calls: 15 allowed, 5 denied, 0 failed\./,
        {},
        { timeout: 3000 },
      ),
    ).toBeTruthy();
    expect(api.callsTo('getActivityChart')).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(api.callsTo('getActivityChart')).toHaveLength(2);
  });
});
