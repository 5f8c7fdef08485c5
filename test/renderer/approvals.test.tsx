// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { InMemoryApi } from './in-memory-api.ts';
import { openView, renderApp } from './render-app.tsx';

function navItem(): HTMLElement {
  return within(screen.getByRole('navigation', { name: 'Views' })).getByRole('button', {
    name: /^Approvals/,
  });
}

function card(name: RegExp): HTMLElement {
  return screen.getByRole('article', { name });
}

describe('Approvals view', () => {
  it('shows each pending call with its faithful summary, who asks, the account and the time left', async () => {
    const api = new InMemoryApi();
    api.requestApproval();
    const { user } = await renderApp(api);
    await waitFor(() => expect(navItem().textContent).toBe('Approvals1, 1 pending'));
    expect(navItem().getAttribute('aria-label')).toBeNull();
    await openView(user, 'Approvals');

    const mail = card(/Send an email \(send_mail\)/);
    expect(within(mail).getByText('claude')).toBeTruthy();
    expect(mail.textContent).toContain('from Claude Desktop 0.12.0, acting as adele@contoso.com');
    const body = within(mail).getByText(/^Hi Megan,/);
    expect(body.textContent).toBe('Hi Megan,\nthe numbers are attached.\nAdele');
    expect(body.className).toBe('multiline');
    expect(within(mail).getByText('Subject').nextSibling?.textContent).toBe('Quarterly numbers');
    expect(within(mail).getByText(/Time left: (1 min [0-9]+ s|2 min 0 s)/)).toBeTruthy();
  });

  it('says the decision can also be made from a terminal, with the commands for each call', async () => {
    const api = new InMemoryApi();
    const approval = api.requestApproval();
    const { user } = await renderApp(api);
    await openView(user, 'Approvals');
    expect(screen.queryByText(/Only this window can approve/)).toBeNull();
    expect(screen.getByText(/or from a terminal with mcp-valet approvals/)).toBeTruthy();
    const mail = card(/Send an email \(send_mail\)/);
    expect(within(mail).getByText(`mcp-valet approvals approve ${approval.id}`)).toBeTruthy();
    expect(within(mail).getByText(`mcp-valet approvals deny ${approval.id}`)).toBeTruthy();
  });

  it('sets invisible-character marks, warnings and the cut apart, and lists the URLs the mail loads and links', async () => {
    const api = new InMemoryApi();
    api.requestApproval({
      summary: [
        { label: 'To', value: 'megan@contoso.com' },
        { label: 'Subject', value: 'Invoice ⟦U+202E⟧fdp.exe⟦U+202C⟧' },
        { label: 'Format', value: 'HTML, shown below as text' },
        {
          label: 'Body',
          value:
            'Hi⟦U+200B ×3⟧ Megan,\n⟦12 lines with only invisible characters: U+200B⟧\nPay today.\n… not shown: 4 more lines (210 characters)',
        },
        {
          label: 'Loads when opened',
          value:
            'track.example — https://track.example/open.gif?u=megan (img src)\ncdn.example — https://cdn.example/a.css (link href)',
        },
        {
          label: 'Links to',
          value:
            'evil.example — https://evil.example/login ⚠ the link text shows www.paypal.com\ncontoso.com — https://contoso.com/plan',
        },
      ],
    });
    const { user } = await renderApp(api);
    await openView(user, 'Approvals');
    const mail = card(/Send an email/);
    const value = (label: string) =>
      within(mail).getByText(label).nextElementSibling as HTMLElement;

    expect([...mail.querySelectorAll('mark')].map((m) => m.textContent)).toEqual([
      '⟦U+202E⟧',
      '⟦U+202C⟧',
      '⟦U+200B ×3⟧',
      '⟦12 lines with only invisible characters: U+200B⟧',
    ]);
    for (const mark of mail.querySelectorAll('mark'))
      expect(mark.getAttribute('title')).toBe('Not visible in the message: shown here as a mark');
    expect(value('Subject').textContent).toBe('Invoice ⟦U+202E⟧fdp.exe⟦U+202C⟧');

    const cut = within(value('Body')).getByText('… not shown: 4 more lines (210 characters)');
    expect(cut.tagName).toBe('EM');

    expect(value('Loads when opened').textContent!.split('\n')).toEqual([
      'track.example — https://track.example/open.gif?u=megan (img src)',
      'cdn.example — https://cdn.example/a.css (link href)',
    ]);
    expect(value('Links to').textContent!.split('\n')).toEqual([
      'evil.example — https://evil.example/login ⚠ the link text shows www.paypal.com',
      'contoso.com — https://contoso.com/plan',
    ]);
    const warning = within(value('Links to')).getByText('⚠ the link text shows www.paypal.com');
    expect(warning.tagName).toBe('STRONG');
    // URLs are text to read, not links to follow from the prompt.
    expect(mail.querySelector('a')).toBeNull();
  });

  it('approves once, approves for a chosen number of minutes, and denies', async () => {
    const api = new InMemoryApi();
    api.requestApproval({ id: 'a1', action: 'Send an email' });
    api.requestApproval({ id: 'a2', tool: 'create_event', action: 'Create an event' });
    api.requestApproval({ id: 'a3', tool: 'search_files', action: 'Search files' });
    const { user } = await renderApp(api);
    await openView(user, 'Approvals');
    expect(navItem().textContent).toContain('3 pending');

    await user.click(within(card(/Send an email/)).getByRole('button', { name: 'Approve once' }));
    await waitFor(() =>
      expect(screen.queryByRole('article', { name: /Send an email/ })).toBeNull(),
    );

    const event = card(/Create an event/);
    await user.selectOptions(
      within(event).getByRole('combobox', { name: /for this key for/ }),
      '30',
    );
    await user.click(within(event).getByRole('button', { name: 'Approve for 30 minutes' }));
    await waitFor(() =>
      expect(screen.queryByRole('article', { name: /Create an event/ })).toBeNull(),
    );

    await user.click(within(card(/Search files/)).getByRole('button', { name: 'Deny' }));
    expect(await screen.findByText('Nothing is waiting for your approval.')).toBeTruthy();
    expect(api.callsTo('decideApproval')).toEqual([
      { id: 'a1', decision: { kind: 'once' } },
      { id: 'a2', decision: { kind: 'window', minutes: 30 } },
      { id: 'a3', decision: { kind: 'deny' } },
    ]);
    expect(navItem().textContent).toBe('Approvals');
  });

  it('counts and announces an approval that arrives while another view is shown', async () => {
    const { api, user } = await renderApp();
    expect(navItem().textContent).toBe('Approvals');
    api.requestApproval({ id: 'a1' });
    const banner = await screen.findByText('Approval needed: key claude asks to run send_mail.');
    expect(banner.closest('[aria-live="polite"]')).toBeTruthy();
    expect(navItem().textContent).toContain('1 pending');
    api.requestApproval({ id: 'a2', tool: 'create_event' });
    await waitFor(() => expect(navItem().textContent).toContain('2 pending'));

    await user.click(screen.getByRole('button', { name: 'Review in Approvals' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Approvals' })).toBe(
      document.activeElement,
    );
    expect(screen.queryByText(/Approval needed/)).toBeNull();
    expect(screen.getAllByRole('article')).toHaveLength(2);

    // While Approvals is shown, a new one joins the list without a banner.
    api.requestApproval({ id: 'a3', tool: 'search_files', action: 'Search files' });
    expect(await screen.findByRole('article', { name: /Search files/ })).toBeTruthy();
    expect(screen.queryByText(/Approval needed/)).toBeNull();
  });

  it('drops approvals decided elsewhere, with their banner', async () => {
    const { api } = await renderApp();
    api.requestApproval({ id: 'a1' });
    await screen.findByText(/Approval needed/);
    api.approvals = [];
    api.emit({ type: 'approval-decided', id: 'a1', outcome: 'timeout' });
    await waitFor(() => expect(screen.queryByText(/Approval needed/)).toBeNull());
    expect(navItem().textContent).toBe('Approvals');
  });

  it('shows a failed decision in its card and keeps the card usable', async () => {
    const api = new InMemoryApi();
    api.requestApproval({ id: 'a1' });
    const { user } = await renderApp(api);
    await openView(user, 'Approvals');
    api.failNext('decideApproval', 'Approval a1 is no longer pending: it timed out');
    const mail = card(/Send an email/);
    await user.click(within(mail).getByRole('button', { name: 'Approve once' }));
    expect((await within(mail).findByRole('alert')).textContent).toBe(
      'Approval a1 is no longer pending: it timed out',
    );
    expect((within(mail).getByRole('button', { name: 'Deny' }) as HTMLButtonElement).disabled).toBe(
      false,
    );
  });

  it('says when an approval has timed out and no longer offers to approve it', async () => {
    const api = new InMemoryApi();
    api.requestApproval({ id: 'old', expiresAt: new Date(Date.now() - 1000).toISOString() });
    const { user } = await renderApp(api);
    await openView(user, 'Approvals');
    const mail = card(/Send an email/);
    expect(within(mail).getByText(/Timed out: counts as deny/)).toBeTruthy();
    expect(
      (within(mail).getByRole('button', { name: 'Approve once' }) as HTMLButtonElement).disabled,
    ).toBe(true);
  });
});
