// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ADELE, MEGAN } from './in-memory-api.ts';
import { openView, renderApp } from './render-app.tsx';

function row(username: string): HTMLElement {
  return screen.getByRole('row', { name: new RegExp(username) });
}

describe('Accounts view', () => {
  it('lists the cached accounts with the active one and how they signed in', async () => {
    const { user } = await renderApp();
    await openView(user, 'Accounts');
    const table = await screen.findByRole('table', { name: 'Accounts signed in on this computer' });
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(row('adele').getAttribute('aria-current')).toBe('true');
    expect(within(row('adele')).getByText('Active')).toBeTruthy();
    expect(within(row('megan')).getByText('Via broker')).toBeTruthy();
    expect(within(row('megan')).getByText('Megan Bowen')).toBeTruthy();
  });

  it('switches the active account, and the status follows', async () => {
    const { api, user } = await renderApp();
    await openView(user, 'Accounts');
    await user.click(await screen.findByRole('button', { name: `Switch to ${MEGAN.username}` }));
    await waitFor(() => expect(row('megan').getAttribute('aria-current')).toBe('true'));
    expect(api.callsTo('useAccount')).toEqual([{ account: MEGAN.homeAccountId }]);
    expect(screen.getByRole('banner').textContent).toContain(MEGAN.username);
    expect(screen.getByRole('button', { name: `Switch to ${ADELE.username}` })).toBeTruthy();
  });

  it('removes an account only after confirmation', async () => {
    const { api, user } = await renderApp();
    await openView(user, 'Accounts');
    await user.click(await screen.findByRole('button', { name: `Remove ${MEGAN.username}` }));
    const confirm = screen.getByRole('group', {
      name: /Remove megan@contoso.com from MCP Valet\?/,
    });
    expect(document.activeElement).toBe(within(confirm).getByRole('button', { name: 'Cancel' }));
    await user.keyboard('{Escape}');
    expect(api.callsTo('signOut')).toEqual([]);

    await user.click(screen.getByRole('button', { name: `Remove ${MEGAN.username}` }));
    await user.click(screen.getByRole('button', { name: 'Remove account' }));
    await waitFor(() => expect(screen.queryByRole('row', { name: /megan/ })).toBeNull());
    expect(api.callsTo('signOut')).toEqual([{ account: MEGAN.homeAccountId }]);
  });

  it('shows a failed switch and a failed removal next to the account', async () => {
    const { api, user } = await renderApp();
    await openView(user, 'Accounts');
    api.failNext('useAccount', 'The broker refused: sign in to Megan again');
    await user.click(await screen.findByRole('button', { name: `Switch to ${MEGAN.username}` }));
    expect((await within(row('megan')).findByRole('alert')).textContent).toBe(
      'The broker refused: sign in to Megan again',
    );

    api.failNext('signOut', 'The keyring is locked');
    await user.click(screen.getByRole('button', { name: `Remove ${ADELE.username}` }));
    await user.click(screen.getByRole('button', { name: 'Remove account' }));
    expect((await within(row('adele')).findByRole('alert')).textContent).toBe(
      'The keyring is locked',
    );
  });

  it('adds an account by signing in again', async () => {
    const { api, user } = await renderApp();
    await openView(user, 'Accounts');
    await user.click(screen.getByRole('button', { name: 'Add account' }));
    expect(api.callsTo('signIn')).toEqual([{ method: 'auto' }]);
    api.completeSignIn({
      ...ADELE,
      homeAccountId: 'new',
      username: 'nestor@contoso.com',
      name: 'Nestor',
    });
    expect(await screen.findByRole('row', { name: /nestor@contoso.com/ })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Add account' })).toBeTruthy();
  });
});
