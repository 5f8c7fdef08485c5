import { readdir, readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CALL_NAMES,
  callChannel,
  type AppApi,
  type AppEventDto,
  type CallName,
} from '../../preload/contract.ts';
import { createPreloadApi } from '../../preload/preload-api.ts';
import { AppApiError } from '../../renderer/src/api/app-api-error.ts';
import { fromPreload } from '../../renderer/src/api/current-api.ts';
import { createAppApi } from '../../main/core/app/app-api.ts';
import { bindIpc, type IpcBinding } from '../../main/electron/ipc.ts';
import { APP_ORIGIN } from '../../main/electron/window-security.ts';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { signInUntil } from '../support/sign-in-steps.ts';
import { connectClient, useValet } from '../support/valet.ts';
import {
  BrowserWindow,
  FakeFrame,
  ipcMain,
  ipcRenderer,
  platform,
  rendererFor,
  resetFakeElectron,
} from './fake-electron.ts';

const [adele, alex] = DEMO_USERS as [IdpUser, IdpUser];
const fx = useValet(adele, { key: 'ipc-test' });

let win: BrowserWindow;
let binding: IpcBinding;

function ourWindow(): BrowserWindow {
  const w = new BrowserWindow({});
  void w.loadURL(`${APP_ORIGIN}/`);
  return w;
}

/** The preload's verbs as the page in `w` gets them, counting which calls were made. */
function pageApi(w: BrowserWindow, used?: Set<string>): AppApi {
  const api = createPreloadApi(rendererFor(w.webContents));
  if (!used) return api;
  return new Proxy(api, {
    get(target, name, receiver) {
      if (typeof name === 'string') used.add(name);
      return Reflect.get(target, name, receiver) as unknown;
    },
  });
}

async function until<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(() => {
  resetFakeElectron();
  win = ourWindow();
});
beforeEach(() => {
  binding?.dispose();
  binding = bindIpc(
    ipcMain as never,
    createAppApi(fx.valet.core, { shell: 'desktop' }),
    () => win as never,
  );
});
afterAll(() => binding?.dispose());

describe('typed IPC', () => {
  it('has a handler and a preload verb for every contract call, and nothing else', () => {
    expect([...ipcMain.handlers.keys()].sort()).toEqual(CALL_NAMES.map(callChannel).sort());
    expect(Object.keys(pageApi(win)).sort()).toEqual([...CALL_NAMES, 'subscribe'].sort());
    binding.dispose();
    expect(ipcMain.handlers.size).toBe(0);
  });

  it('the preload exposes verbs only: no ipcRenderer, no invoke, frozen', async () => {
    ipcRenderer.target = rendererFor(win.webContents);
    await import('../../preload/index.ts');
    const exposed = platform.exposed.get('valet') as Record<string, unknown>;
    expect(Object.keys(exposed).sort()).toEqual([...CALL_NAMES, 'subscribe'].sort());
    expect(Object.values(exposed).every((v) => typeof v === 'function')).toBe(true);
    expect(Object.isFrozen(exposed)).toBe(true);
    const received: unknown[][] = [];
    const off = (exposed.subscribe as AppApi['subscribe'])((...args: unknown[]) => {
      received.push(args);
    });
    win.webContents.send('valet:event', { type: 'show-view', view: 'approvals' });
    off();
    win.webContents.send('valet:event', { type: 'show-view', view: 'status' });
    // The listener gets the event alone: never Electron's event object (it holds ipcRenderer).
    expect(received).toEqual([[{ type: 'show-view', view: 'approvals' }]]);
    const status = await (exposed.getStatus as AppApi['getStatus'])({});
    expect(status.account?.username).toBe(adele.username);
  });

  it('refuses calls from another window, from a subframe, and from a page that is not ours', async () => {
    const keysBefore = (await fx.valet.core.keys.list()).length;
    const other = ourWindow();
    const request = { name: 'sneaky', tools: ['send_mail'], readOnly: false };
    const senders = {
      'another window': rendererFor(other.webContents),
      'a subframe of ours': rendererFor(win.webContents, new FakeFrame(`${APP_ORIGIN}/`)),
    };
    for (const [who, ipc] of Object.entries(senders)) {
      expect(await ipc.invoke(callChannel('createKey'), request), who).toEqual({
        ok: false,
        error: { code: 'forbidden', message: 'createKey is only answered to the MCP Valet window' },
      });
    }
    const away = ourWindow();
    binding.dispose();
    binding = bindIpc(ipcMain as never, createAppApi(fx.valet.core), () => away as never);
    away.webContents.mainFrame.url = 'https://evil.example/';
    await expect(pageApi(away).createKey(request as never)).rejects.toThrow(
      'createKey is only answered to the MCP Valet window',
    );
    expect((await fx.valet.core.keys.list()).length).toBe(keysBefore);
  });

  it('refuses calls from the page of a window that has been closed, and sends it no events', async () => {
    const keysBefore = (await fx.valet.core.keys.list()).length;
    const closing = ourWindow();
    const api = createAppApi(fx.valet.core);
    const emitted: AppEventDto[] = [];
    api.subscribe((e) => emitted.push(e));
    binding.dispose();
    binding = bindIpc(ipcMain as never, api, () => closing as never);
    // The page's IPC handle outlives its window, as a message already on its way would.
    const lingering = rendererFor(closing.webContents);
    const events: unknown[] = [];
    lingering.on('valet:event', (_event, payload) => events.push(payload));
    closing.close();
    expect(closing.isDestroyed()).toBe(true);

    const request = { name: 'after-close', tools: ['send_mail'], readOnly: false };
    expect(await lingering.invoke(callChannel('createKey'), request)).toEqual({
      ok: false,
      error: { code: 'forbidden', message: 'createKey is only answered to the MCP Valet window' },
    });
    expect(await lingering.invoke(callChannel('listKeys'), {})).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    const { client } = await connectClient(fx.valet.endpoint.url, fx.secret, 'after close');
    await client.callTool({ name: 'get_user_details', arguments: {} });
    await until('the activity event', () => emitted.some((e) => e.type === 'activity'));
    await client.close();
    expect(events).toEqual([]);
    expect((await fx.valet.core.keys.list()).length).toBe(keysBefore);
  });

  it('rejects bad arguments with an error that names the call and the field', async () => {
    const valet = pageApi(win);
    const keysBefore = (await fx.valet.core.keys.list()).length;
    await expect(
      valet.createKey({ name: 'x', tools: ['format_disk'], readOnly: false } as never),
    ).rejects.toThrow(/^createKey: tools\.0: Invalid option/);
    await expect(
      valet.saveSettings({ clientId: 'my-app', tenantId: 'organizations' }),
    ).rejects.toEqual({
      code: 'invalid_request',
      message: 'saveSettings: clientId: is not a GUID',
      fields: ['clientId'],
    });
    // The window turns that data back into an AppApiError, as over the web bridge.
    const refused = await fromPreload(valet)
      .saveSettings({ clientId: 'my-app', tenantId: 'nope' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppApiError);
    expect(refused).toMatchObject({
      code: 'invalid_request',
      message: 'saveSettings: clientId: is not a GUID',
      fields: ['clientId', 'tenantId'],
    });
    await expect(
      valet.decideApproval({ id: 'a1', decision: { kind: 'forever' } } as never),
    ).rejects.toThrow(/^decideApproval: decision\.kind: /);
    expect(
      await rendererFor(win.webContents).invoke(callChannel('listKeys'), 'drop table'),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid_request' },
    });
    expect((await fx.valet.core.keys.list()).length).toBe(keysBefore);
  });

  it('every contract call round-trips: preload verb → handler → the real core', async () => {
    const used = new Set<string>();
    const valet = pageApi(win, used);
    const events: AppEventDto[] = [];
    const unsubscribe = valet.subscribe((e) => events.push(e));

    const status = await valet.getStatus({});
    expect(status).toMatchObject({
      configured: true,
      account: { username: adele.username, active: true },
      endpoint: { running: true, url: fx.valet.endpoint.url },
    });
    const settings = await valet.getSettings({});
    expect(settings).toMatchObject({ configured: true, clientId: status.clientId });
    expect(
      await valet.saveSettings({ clientId: settings.clientId!, tenantId: settings.tenantId }),
    ).toMatchObject({ configured: true, clientId: settings.clientId });

    expect((await valet.getPolicy({})).tools).toHaveLength(9);
    const off = await valet.setToolEnabled({ tool: 'search_people', enabled: false });
    expect(off.tools.find((t) => t.tool === 'search_people')?.enabled).toBe(false);
    await valet.setToolEnabled({ tool: 'search_people', enabled: true });

    const created = await valet.createKey({
      name: 'desktop-ipc',
      tools: ['get_user_details', 'send_mail'],
      readOnly: false,
    });
    expect(created.secret).toMatch(/^mvk_/);
    expect(JSON.parse(created.configs.vscode).servers['mcp-valet'].url).toBe(fx.valet.endpoint.url);
    const listed = await valet.listKeys({});
    expect(listed.map((k) => k.name)).toContain('desktop-ipc');
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    const { client } = await connectClient(fx.valet.endpoint.url, created.secret, 'IPC test');
    const me = await client.callTool({ name: 'get_user_details', arguments: {} });
    expect(JSON.stringify(me.content)).toContain('Adele Vance');
    await until('the activity event', () => events.some((e) => e.type === 'activity'));
    expect((await valet.listActivity({ limit: 1 })).items[0]).toMatchObject({
      tool: 'get_user_details',
      keyName: 'desktop-ipc',
      outcome: 'allowed',
    });
    expect(await valet.getDiagnostics({})).toEqual({ path: null, recent: [], canOpen: false });
    await expect(valet.openDiagnostics({})).rejects.toMatchObject({ code: 'not_available' });
    const chart = await valet.getActivityChart({ minutes: 60, buckets: 6 });
    expect(chart.buckets).toHaveLength(6);
    expect(chart.totals.allowed).toBeGreaterThanOrEqual(1);

    const mail = client.callTool({
      name: 'send_mail',
      arguments: { to: ['alex@contoso.test'], subject: 'From the desk', body: 'Hello' },
    });
    await until('the approval event', () => events.some((e) => e.type === 'approval-requested'));
    const [pending] = await valet.listApprovals({});
    expect(pending).toMatchObject({ tool: 'send_mail', key: { name: 'desktop-ipc' } });
    await valet.decideApproval({ id: pending!.id, decision: { kind: 'deny' } });
    expect((await mail).isError).toBe(true);
    expect(events).toContainEqual({ type: 'approval-decided', id: pending!.id, outcome: 'denied' });

    expect((await valet.revokeKey({ id: created.key.id })).revokedAt).toEqual(expect.any(String));

    // A second account through device code, then back to the first one.
    const { step } = await signInUntil(valet, { method: 'device-code' }, 'device-code');
    await fx.idp.approveDeviceCode(step.userCode, alex.username);
    await until('Alex signed in', () =>
      events.some(
        (e) => e.type === 'status-changed' && e.status.account?.username === alex.username,
      ),
    );
    expect((await valet.listAccounts({})).map((a) => a.username).sort()).toEqual([
      adele.username,
      alex.username,
    ]);
    expect(await valet.useAccount({ account: adele.username })).toMatchObject({
      username: adele.username,
      active: true,
    });

    const abandoned = await signInUntil(valet, { method: 'device-code' }, 'device-code');
    await valet.cancelSignIn({ attemptId: abandoned.attemptId });
    await until('the cancelled step', () =>
      events.some(
        (e) =>
          e.type === 'sign-in-progress' &&
          e.attemptId === abandoned.attemptId &&
          e.step.kind === 'cancelled',
      ),
    );
    expect((await valet.getStatus({})).account?.username).toBe(adele.username);

    await valet.signOut({ account: alex.username });
    expect((await valet.listAccounts({})).map((a) => a.username)).toEqual([adele.username]);

    unsubscribe();
    expect(CALL_NAMES.filter((name: CallName) => !used.has(name))).toEqual([]);
  });

  it('is the only module that sends to the window on the event channel', async () => {
    const main = fileURLToPath(new URL('../../main/', import.meta.url));
    const files = (await readdir(main, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const senders: string[] = [];
    for (const file of files) {
      const source = await readFile(join(main, file), 'utf8');
      if (/\.send\(\s*EVENT_CHANNEL|['"]valet:event['"]|webContents\.send\(/.test(source))
        senders.push(file.split(sep).join('/'));
    }
    expect(senders).toEqual(['electron/ipc.ts']);
  });
});
