// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { openView, renderApp } from './render-app.tsx';

describe('Tools and policy view', () => {
  it('lists each tool with its kind, scopes, approval and role, and the limits', async () => {
    const { user } = await renderApp();
    await openView(user, 'Tools and policy');
    const row = await screen.findByRole('row', { name: /Send mail/ });
    expect(within(row).getByText('send_mail')).toBeTruthy();
    expect(within(row).getByText('Changes data')).toBeTruthy();
    expect(within(row).getByText('Mail.Send')).toBeTruthy();
    expect(within(row).getByText('Asks first')).toBeTruthy();
    expect(within(row).getByText('Valet.Mail.Send')).toBeTruthy();
    expect(screen.getAllByRole('switch')).toHaveLength(9);
    expect(screen.getByText(/time out after 120 seconds/)).toBeTruthy();
    expect(
      screen.getByText(/300 requests a minute \(bursts of 60\) with 8 calls in flight/),
    ).toBeTruthy();
  });

  it('turns a tool off and on for everyone', async () => {
    const { api, user } = await renderApp();
    await openView(user, 'Tools and policy');
    const toggle = (await screen.findByRole('switch', {
      name: 'Search people (search_people)',
    })) as HTMLInputElement;
    expect(toggle.checked).toBe(true);
    await user.click(toggle);
    await waitFor(() => expect(toggle.checked).toBe(false));
    await user.click(toggle);
    await waitFor(() => expect(toggle.checked).toBe(true));
    expect(api.callsTo('setToolEnabled')).toEqual([
      { tool: 'search_people', enabled: false },
      { tool: 'search_people', enabled: true },
    ]);
  });

  it('shows a refused change next to the switch and leaves it as it was', async () => {
    const { api, user } = await renderApp();
    await openView(user, 'Tools and policy');
    api.failNext('setToolEnabled', 'The policy is fixed by config.json: edit it there');
    const toggle = (await screen.findByRole('switch', {
      name: 'Send mail (send_mail)',
    })) as HTMLInputElement;
    await user.click(toggle);
    const row = screen.getByRole('row', { name: /Send mail/ });
    expect((await within(row).findByRole('alert')).textContent).toBe(
      'The policy is fixed by config.json: edit it there',
    );
    expect(toggle.checked).toBe(true);
  });
});
