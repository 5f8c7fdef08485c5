import { describe, expect, it } from 'vitest';
import type { StatusDto } from '../../preload/contract.ts';
import {
  trayMenu,
  trayState,
  trayTooltip,
  type TrayMenuItem,
  type TrayState,
} from '../../main/electron/tray-menu-model.ts';

const signedOut: TrayState = {
  configured: true,
  signedIn: null,
  accounts: [],
  pendingApprovals: 0,
  endpointUrl: 'http://127.0.0.1:47652/mcp',
};

/** The menu as a person reads it: labels, with marks for disabled and checked items. */
function read(items: TrayMenuItem[]): unknown[] {
  return items.map((i) => {
    if (i.type === 'separator') return '---';
    if (i.type === 'label') return `(${i.label})`;
    if (i.type === 'submenu') return { [i.label]: read(i.items) };
    return `${i.choice?.checked ? '✓ ' : ''}${i.label}${i.enabled === false ? ' [disabled]' : ''}`;
  });
}

describe('the tray menu', () => {
  it('signed out: the status line, Sign in, and no account switching', () => {
    expect(read(trayMenu(signedOut))).toEqual([
      '(Signed out)',
      '---',
      'Sign in…',
      '---',
      'Open MCP Valet',
      'Copy endpoint URL',
      'Open diagnostics log',
      '---',
      'Quit MCP Valet',
    ]);
    expect(trayTooltip(signedOut)).toBe('MCP Valet — signed out');
  });

  it('before the app registration is set: points to the window, offers no sign-in', () => {
    const menu = read(trayMenu({ ...signedOut, configured: false, endpointUrl: null }));
    expect(menu[0]).toBe('(Not set up yet: open MCP Valet to register the app)');
    expect(menu).not.toContain('Sign in…');
    expect(menu).toContain('Copy endpoint URL [disabled]');
  });

  it('signed in with two accounts: who, Sign out, and a switch with the active one checked', () => {
    const state: TrayState = {
      ...signedOut,
      signedIn: { name: 'Adele Vance', username: 'adele@contoso.example' },
      accounts: [
        { homeAccountId: 'a.t', username: 'adele@contoso.example', active: true },
        { homeAccountId: 'm.t', username: 'megan@contoso.example', active: false },
      ],
    };
    const items = trayMenu(state);
    expect(read(items)).toEqual([
      '(Signed in as Adele Vance (adele@contoso.example))',
      '---',
      'Sign out',
      {
        'Switch account': ['✓ adele@contoso.example [disabled]', 'megan@contoso.example'],
      },
      '---',
      'Open MCP Valet',
      'Copy endpoint URL',
      'Open diagnostics log',
      '---',
      'Quit MCP Valet',
    ]);
    const submenu = items.find((i) => i.type === 'submenu');
    const megan = submenu?.type === 'submenu' ? submenu.items[1] : undefined;
    expect(megan).toMatchObject({ command: { kind: 'use-account', homeAccountId: 'm.t' } });
    expect(trayTooltip(state)).toBe('MCP Valet — adele@contoso.example');
  });

  it('pending approvals: counted, and the item opens the approvals view', () => {
    const one = trayMenu({ ...signedOut, pendingApprovals: 1 });
    expect(one[1]).toEqual({
      type: 'item',
      label: '1 approval waiting…',
      command: { kind: 'open', view: 'approvals' },
    });
    expect(read(trayMenu({ ...signedOut, pendingApprovals: 3 }))[1]).toBe('3 approvals waiting…');
    expect(trayTooltip({ ...signedOut, pendingApprovals: 3 })).toBe(
      'MCP Valet — signed out, 3 waiting for approval',
    );
  });

  it('offers start at login where the OS has it, checked when on', () => {
    expect(read(trayMenu(signedOut))).not.toContain('Start at login');
    const off = trayMenu({ ...signedOut, startAtLogin: false });
    expect(off.find((i) => i.type === 'item' && i.label === 'Start at login')).toMatchObject({
      choice: { kind: 'checkbox', checked: false },
      command: { kind: 'start-at-login', enabled: true },
    });
    expect(read(trayMenu({ ...signedOut, startAtLogin: true }))).toContain('✓ Start at login');
  });

  it('reads everything it shows from the status snapshot', () => {
    const adele = {
      homeAccountId: 'a.t',
      username: 'adele@contoso.example',
      name: 'Adele Vance',
      tenantId: 't',
      roles: [],
      active: true,
      viaBroker: false,
    };
    const status: StatusDto = {
      configured: true,
      demo: false,
      clientId: '11111111-2222-4333-8444-555555555555',
      tenantId: 't',
      authority: 'https://login.microsoftonline.com/t',
      account: adele,
      accounts: [adele, { ...adele, homeAccountId: 'm.t', username: 'megan@x', active: false }],
      tokens: [],
      broker: { mode: 'auto', available: false, reason: 'no broker on Linux' },
      cache: { kind: 'memory', persisted: false, protected: false, reason: 'no keyring' },
      endpoint: { url: 'http://127.0.0.1:47652/mcp', running: true },
      missingScopes: [],
      pendingApprovals: 2,
    };
    expect(trayState(status, false)).toEqual({
      configured: true,
      signedIn: { name: 'Adele Vance', username: 'adele@contoso.example' },
      accounts: [
        { homeAccountId: 'a.t', username: 'adele@contoso.example', active: true },
        { homeAccountId: 'm.t', username: 'megan@x', active: false },
      ],
      pendingApprovals: 2,
      endpointUrl: 'http://127.0.0.1:47652/mcp',
      startAtLogin: false,
    });
    const stopped = trayState({ ...status, endpoint: { url: null, running: false } });
    expect(stopped.endpointUrl).toBeNull();
    expect(stopped).not.toHaveProperty('startAtLogin');
    expect(read(trayMenu(stopped))).toContain('Copy endpoint URL [disabled]');
  });
});
