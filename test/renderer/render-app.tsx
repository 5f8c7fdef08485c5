import { cleanup, render, screen } from '@testing-library/react';
import { userEvent, type UserEvent } from '@testing-library/user-event';
import { afterEach } from 'vitest';
import { App } from '../../renderer/src/app.tsx';
import { InMemoryApi } from './in-memory-api.ts';

// Vitest runs without globals here, so Testing Library cannot register its own cleanup.
afterEach(cleanup);

/** Renders the whole window against `api` and waits for the status to load. */
export async function renderApp(
  api = new InMemoryApi(),
): Promise<{ api: InMemoryApi; user: UserEvent }> {
  const user = userEvent.setup();
  render(<App api={api} />);
  if (api.settings.configured) await screen.findByRole('heading', { level: 1, name: 'Status' });
  else await screen.findByRole('form', { name: 'App registration' });
  return { api, user };
}

/** Opens a view from the navigation. */
export async function openView(user: UserEvent, name: string): Promise<void> {
  const nav = screen.getByRole('navigation', { name: 'Views' });
  const button = [...nav.querySelectorAll('button')].find((b) => b.textContent?.startsWith(name));
  if (!button) throw new Error(`No navigation item ${name}`);
  await user.click(button);
  await screen.findByRole('heading', { level: 1, name });
}
