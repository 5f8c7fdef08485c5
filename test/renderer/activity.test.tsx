// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
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
