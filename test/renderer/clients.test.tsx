// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { MEGAN } from './in-memory-api.ts';
import { openView, renderApp } from './render-app.tsx';

const READ_TOOLS = [
  'get_user_details',
  'list_messages',
  'get_message',
  'list_events',
  'search_files',
  'search_people',
  'auth_status',
];

describe('Clients view', () => {
  it('creates a key with the read tools and the active account, and shows the secret once with the configs', async () => {
    const { api, user } = await renderApp();
    await openView(user, 'Clients');
    expect(screen.getByText('No keys yet: create one for each MCP client.')).toBeTruthy();
    expect((screen.getByRole('checkbox', { name: /^send_mail/ }) as HTMLInputElement).checked).toBe(
      false,
    );
    expect(
      (screen.getByRole('checkbox', { name: /^list_messages/ }) as HTMLInputElement).checked,
    ).toBe(true);
    await waitFor(() =>
      expect((screen.getByLabelText('Account') as HTMLSelectElement).value).toBe(
        'adele-oid.tenant-id',
      ),
    );

    await user.type(screen.getByLabelText('Name'), 'cursor');
    await user.click(screen.getByRole('button', { name: 'Create key' }));

    const created = await screen.findByRole('region', { name: 'Key “cursor” created' });
    expect(api.callsTo('createKey')).toEqual([
      { name: 'cursor', tools: READ_TOOLS, readOnly: false, account: 'adele-oid.tenant-id' },
    ]);
    expect(document.activeElement).toBe(within(created).getByRole('heading', { level: 2 }));
    expect(within(created).getByText('This secret will not be shown again.')).toBeTruthy();
    expect(within(created).getByText('mvk_secret_key-1_0123456789')).toBeTruthy();
    for (const name of ['VS Code', 'Cursor', 'Claude Desktop']) {
      expect(within(created).getByRole('heading', { level: 3, name })).toBeTruthy();
    }
    expect(within(created).getByText(/"VALET_KEY":"mvk_secret_key-1_0123456789"/)).toBeTruthy();
    // VS Code's file asks for the key; the others carry it, and say so.
    const vscode = within(created).getByRole('region', { name: 'VS Code' });
    expect(
      within(vscode).getByText(/This file holds no secret: VS Code asks for the key/),
    ).toBeTruthy();
    const cursor = within(created).getByRole('region', { name: 'Cursor' });
    expect(within(cursor).getByText(/This file holds the secret/)).toBeTruthy();

    await user.click(within(created).getByRole('button', { name: 'Copy secret' }));
    expect(await navigator.clipboard.readText()).toBe('mvk_secret_key-1_0123456789');
    await user.click(within(created).getByRole('button', { name: 'Copy Cursor configuration' }));
    expect(await navigator.clipboard.readText()).toContain('Bearer mvk_secret_key-1_0123456789');

    const keys = screen.getByRole('table', { name: 'Valet keys, one per client' });
    const row = within(keys).getByRole('row', { name: /cursor/ });
    expect(within(row).getByText(READ_TOOLS.join(', '))).toBeTruthy();
    expect(within(row).getByText('adele@contoso.com')).toBeTruthy();
    expect(within(row).getByText('Never')).toBeTruthy();
    expect(within(row).getByText('Active')).toBeTruthy();

    await user.click(within(created).getByRole('button', { name: /Done/ }));
    expect(screen.queryByText(/mvk_secret/)).toBeNull();
    expect(screen.getByRole('button', { name: 'Create key' })).toBeTruthy();
  });

  it('does not show the secret again after leaving the view', async () => {
    const { user } = await renderApp();
    await openView(user, 'Clients');
    await user.type(screen.getByLabelText('Name'), 'claude');
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    expect(await screen.findByText('mvk_secret_key-1_0123456789')).toBeTruthy();
    await openView(user, 'Status');
    await openView(user, 'Clients');
    expect(await screen.findByRole('row', { name: /claude/ })).toBeTruthy();
    expect(screen.queryByText(/mvk_secret/)).toBeNull();
  });

  it('makes read-only keys without the tools that change data, for another account', async () => {
    const { api, user } = await renderApp();
    await openView(user, 'Clients');
    await user.click(screen.getByRole('checkbox', { name: /^send_mail/ }));
    await user.click(screen.getByRole('checkbox', { name: /^Read-only/ }));
    const sendMail = screen.getByRole('checkbox', { name: /^send_mail/ }) as HTMLInputElement;
    expect(sendMail.disabled).toBe(true);
    expect(sendMail.checked).toBe(false);
    await user.click(screen.getByRole('checkbox', { name: /^search_files/ }));
    await user.selectOptions(await screen.findByLabelText('Account'), MEGAN.homeAccountId);
    await user.type(screen.getByLabelText('Name'), 'agent');
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    await screen.findByRole('region', { name: /created/ });
    expect(api.callsTo('createKey')).toEqual([
      {
        name: 'agent',
        tools: READ_TOOLS.filter((t) => t !== 'search_files'),
        readOnly: true,
        account: MEGAN.homeAccountId,
      },
    ]);
    expect(
      within(screen.getByRole('row', { name: /agent/ })).getByText('read-only', { exact: false }),
    ).toBeTruthy();
  });

  it('checks the form and shows the core’s refusal next to it', async () => {
    const { api, user } = await renderApp();
    await openView(user, 'Clients');
    const form = screen.getByRole('form', { name: 'Create key' });
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    expect(within(form).getByRole('alert').textContent).toMatch(/Give the key a name/);
    expect(api.callsTo('createKey')).toEqual([]);

    await user.type(screen.getByLabelText('Name'), 'x');
    for (const tool of READ_TOOLS)
      await user.click(screen.getByRole('checkbox', { name: new RegExp(`^${tool}`) }));
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    expect(within(form).getByRole('alert').textContent).toBe('Pick at least one tool.');

    await user.click(screen.getByRole('checkbox', { name: /^list_messages/ }));
    api.failNext('createKey', 'A key named x already exists: pick another name');
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    await waitFor(() =>
      expect(within(form).getByRole('alert').textContent).toBe(
        'A key named x already exists: pick another name',
      ),
    );
    expect(screen.queryByText(/mvk_secret/)).toBeNull();
  });

  it('revokes a key after confirmation, and shows a failed revoke next to it', async () => {
    const { api, user } = await renderApp();
    api.keys = [
      {
        id: 'k1',
        name: 'vscode',
        tools: ['list_messages'],
        readOnly: false,
        account: null,
        createdAt: '2026-01-01T00:00:00Z',
        lastUsedAt: '2026-01-02T10:00:00Z',
      },
    ];
    await openView(user, 'Clients');
    const row = await screen.findByRole('row', { name: /vscode/ });
    expect(within(row).getByText('The active account')).toBeTruthy();

    api.failNext('revokeKey', 'The key store is locked by another process');
    await user.click(within(row).getByRole('button', { name: 'Revoke vscode' }));
    await user.click(within(row).getByRole('button', { name: 'Revoke key' }));
    expect((await within(row).findByRole('alert')).textContent).toBe(
      'The key store is locked by another process',
    );

    await user.click(within(row).getByRole('button', { name: 'Revoke key' }));
    await waitFor(() => expect(within(row).getByText(/^Revoked/)).toBeTruthy());
    expect(within(row).queryByRole('button', { name: /Revoke/ })).toBeNull();
    expect(api.callsTo('revokeKey')).toEqual([{ id: 'k1' }, { id: 'k1' }]);
  });
});
