import type { StatusDto } from '../../preload/contract.ts';

/** What the tray shows: derived from the app's status snapshot, and nothing else. */
export interface TrayState {
  signedIn: { name: string | null; username: string } | null;
  accounts: Array<{ homeAccountId: string; username: string; active: boolean }>;
  pendingApprovals: number;
  endpointUrl: string | null;
  configured: boolean;
  /** Whether MCP Valet starts at login; undefined where the OS offers no such setting (Linux). */
  startAtLogin?: boolean;
}

/** The tray's state from the status snapshot (and the OS's login item, where there is one). */
export function trayState(status: StatusDto, startAtLogin?: boolean): TrayState {
  const active = status.account;
  return {
    configured: status.configured,
    signedIn: active ? { name: active.name, username: active.username } : null,
    accounts: status.accounts.map((a) => ({
      homeAccountId: a.homeAccountId,
      username: a.username,
      active: a.active,
    })),
    pendingApprovals: status.pendingApprovals,
    endpointUrl: status.endpoint.running ? status.endpoint.url : null,
    ...(startAtLogin === undefined ? {} : { startAtLogin }),
  };
}

/** The commands a menu item can run; the shell maps them to the core and the window. */
export type TrayCommand =
  | { kind: 'sign-in' }
  | { kind: 'sign-out' }
  | { kind: 'use-account'; homeAccountId: string }
  | { kind: 'open'; view?: 'approvals' | 'status' }
  | { kind: 'copy-endpoint' }
  | { kind: 'open-diagnostics' }
  | { kind: 'start-at-login'; enabled: boolean }
  | { kind: 'quit' };

/** A platform-neutral menu: labels, what they do, and how they look. */
export type TrayMenuItem =
  | { type: 'separator' }
  | { type: 'label'; label: string }
  | {
      type: 'item';
      label: string;
      command: TrayCommand;
      enabled?: boolean;
      /** A choice among accounts (radio) or an on/off setting (checkbox), and its state. */
      choice?: { kind: 'radio' | 'checkbox'; checked: boolean };
    }
  | { type: 'submenu'; label: string; items: TrayMenuItem[] };

/**
 * The tray menu for a state. Pure, so the shell rebuilds it on every auth or approval event
 * and tests check it without Electron: status line, sign in or out, account switching,
 * pending approvals, open the window, copy the endpoint URL, open the diagnostics log, quit.
 */
export function trayMenu(state: TrayState): TrayMenuItem[] {
  const items: TrayMenuItem[] = [];
  if (!state.configured)
    items.push({ type: 'label', label: 'Not set up yet: open MCP Valet to register the app' });
  else if (state.signedIn)
    items.push({
      type: 'label',
      label: `Signed in as ${state.signedIn.name ? `${state.signedIn.name} (${state.signedIn.username})` : state.signedIn.username}`,
    });
  else items.push({ type: 'label', label: 'Signed out' });
  if (state.pendingApprovals > 0) {
    const n = state.pendingApprovals;
    items.push({
      type: 'item',
      label: `${n} approval${n === 1 ? '' : 's'} waiting…`,
      command: { kind: 'open', view: 'approvals' },
    });
  }
  items.push({ type: 'separator' });
  if (state.configured) {
    items.push(
      state.signedIn
        ? { type: 'item', label: 'Sign out', command: { kind: 'sign-out' } }
        : { type: 'item', label: 'Sign in…', command: { kind: 'sign-in' } },
    );
  }
  if (state.accounts.length > 1) {
    items.push({
      type: 'submenu',
      label: 'Switch account',
      items: state.accounts.map((a) => ({
        type: 'item',
        label: a.username,
        choice: { kind: 'radio', checked: a.active },
        enabled: !a.active,
        command: { kind: 'use-account', homeAccountId: a.homeAccountId },
      })),
    });
  }
  items.push({ type: 'separator' });
  items.push({ type: 'item', label: 'Open MCP Valet', command: { kind: 'open' } });
  items.push({
    type: 'item',
    label: 'Copy endpoint URL',
    command: { kind: 'copy-endpoint' },
    enabled: state.endpointUrl !== null,
  });
  items.push({
    type: 'item',
    label: 'Open diagnostics log',
    command: { kind: 'open-diagnostics' },
  });
  if (state.startAtLogin !== undefined) {
    items.push({
      type: 'item',
      label: 'Start at login',
      choice: { kind: 'checkbox', checked: state.startAtLogin },
      command: { kind: 'start-at-login', enabled: !state.startAtLogin },
    });
  }
  items.push({ type: 'separator' });
  items.push({ type: 'item', label: 'Quit MCP Valet', command: { kind: 'quit' } });
  return items;
}

/** The tray icon's tooltip. */
export function trayTooltip(state: TrayState): string {
  const who = state.signedIn ? state.signedIn.username : 'signed out';
  return `MCP Valet — ${who}${state.pendingApprovals ? `, ${state.pendingApprovals} waiting for approval` : ''}`;
}
