// @vitest-environment jsdom
import { act, render, screen } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { App } from '../../renderer/src/app.tsx';
import { InMemoryApi } from './in-memory-api.ts';
import { renderApp } from './render-app.tsx';

describe('The window', () => {
  it('names the app in the header and moves between views with the keyboard', async () => {
    const { user } = await renderApp();
    expect(screen.getByRole('banner').textContent).toContain('MCP Valet');
    const status = screen.getByRole('button', { name: 'Status' });
    expect(status.getAttribute('aria-current')).toBe('page');

    await user.tab();
    await user.tab();
    expect(document.activeElement?.textContent).toBe('Accounts');
    await user.keyboard('{Enter}');
    const heading = await screen.findByRole('heading', { level: 1, name: 'Accounts' });
    expect(document.activeElement).toBe(heading);
    expect(screen.getByRole('button', { name: 'Accounts' }).getAttribute('aria-current')).toBe(
      'page',
    );
    expect(status.getAttribute('aria-current')).toBeNull();

    screen.getByRole('button', { name: 'Tools and policy' }).focus();
    await user.keyboard(' ');
    expect(await screen.findByRole('heading', { level: 1, name: 'Tools and policy' })).toBeTruthy();
  });

  it('opens the view the desktop tray asks for', async () => {
    const { api } = await renderApp();
    act(() => api.emit({ type: 'show-view', view: 'approvals' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Approvals' })).toBeTruthy();
    act(() => api.emit({ type: 'show-view', view: 'status' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Status' })).toBeTruthy();
  });

  it('shows a status that cannot be loaded, and tries again', async () => {
    const api = new InMemoryApi();
    api.failNext('getStatus', 'MCP Valet answered HTTP 502: reload the page');
    const user = userEvent.setup();
    render(<App api={api} />);
    expect((await screen.findByRole('alert')).textContent).toBe(
      'MCP Valet answered HTTP 502: reload the page',
    );
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Status' })).toBeTruthy();
  });

  it('lets go of its event subscriptions when closed', async () => {
    const api = new InMemoryApi();
    const { unmount } = render(<App api={api} />);
    await screen.findByRole('heading', { level: 1, name: 'Status' });
    expect(api.subscriberCount).toBeGreaterThan(0);
    unmount();
    expect(api.subscriberCount).toBe(0);
  });
});
