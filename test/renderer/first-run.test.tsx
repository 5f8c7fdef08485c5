// @vitest-environment jsdom
import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { InMemoryApi } from './in-memory-api.ts';
import { renderApp } from './render-app.tsx';

const CLIENT_ID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

describe('First run', () => {
  it('asks for the app registration when not configured, without the navigation', async () => {
    await renderApp(new InMemoryApi({ configured: false }));
    expect(screen.getByRole('form', { name: 'App registration' })).toBeTruthy();
    expect(screen.queryByRole('navigation')).toBeNull();
    expect(screen.getByText(/Register the app in Entra ID/)).toBeTruthy();
    expect((screen.getByLabelText('Directory (tenant) ID') as HTMLInputElement).value).toBe(
      'organizations',
    );
  });

  it('marks a client ID that is not a GUID and an empty tenant, as the core refuses them, and saves nothing', async () => {
    const api = new InMemoryApi({ configured: false });
    const { user } = await renderApp(api);
    await user.type(screen.getByLabelText('Application (client) ID'), 'not-a-guid');
    await user.clear(screen.getByLabelText('Directory (tenant) ID'));
    await user.click(screen.getByRole('button', { name: 'Save' }));

    const clientId = screen.getByLabelText('Application (client) ID');
    expect(clientId.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(clientId);
    expect(screen.getByText(/must be a GUID/)).toBeTruthy();
    expect(screen.getByText(/The directory \(tenant\) ID is required/)).toBeTruthy();
    expect(api.callsTo('saveSettings')).toEqual([]);
  });

  it('saves valid settings and shows the status', async () => {
    const api = new InMemoryApi({ configured: false, accounts: [] });
    const { user } = await renderApp(api);
    await user.type(screen.getByLabelText('Application (client) ID'), ` ${CLIENT_ID} `);
    await user.clear(screen.getByLabelText('Directory (tenant) ID'));
    await user.type(screen.getByLabelText('Directory (tenant) ID'), 'contoso.onmicrosoft.com');
    await user.click(screen.getByRole('button', { name: 'Save' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Status' })).toBeTruthy();
    expect(api.callsTo('saveSettings')).toEqual([
      { clientId: CLIENT_ID, tenantId: 'contoso.onmicrosoft.com' },
    ]);
    expect(screen.getByRole('navigation', { name: 'Views' })).toBeTruthy();
    expect(screen.getByText(CLIENT_ID)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeTruthy();
  });

  it('shows settings locked by the environment read-only with a note', async () => {
    const api = new InMemoryApi({ configured: false, lockedByEnvironment: ['tenantId'] });
    api.settings.tenantId = 'contoso.onmicrosoft.com';
    await renderApp(api);
    const tenant = (await screen.findByDisplayValue('contoso.onmicrosoft.com')) as HTMLInputElement;
    expect(tenant.readOnly).toBe(true);
    expect(screen.getByText(/Set by VALET_TENANT_ID in the environment/)).toBeTruthy();
    expect((screen.getByLabelText('Application (client) ID') as HTMLInputElement).readOnly).toBe(
      false,
    );
  });

  it('shows the core’s error next to the form and stays usable', async () => {
    const api = new InMemoryApi({ configured: false });
    api.failNext('saveSettings', 'Cannot write config.json: permission denied');
    const { user } = await renderApp(api);
    await user.type(screen.getByLabelText('Application (client) ID'), CLIENT_ID);
    await user.click(screen.getByRole('button', { name: 'Save' }));
    const form = screen.getByRole('form', { name: 'App registration' });
    expect((await within(form).findByRole('alert')).textContent).toBe(
      'Cannot write config.json: permission denied',
    );

    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Status' })).toBeTruthy();
  });
});
