import { describe, expect, it } from 'vitest';
import type { AppEventDto } from '../../../preload/contract.ts';
import { createAppApi } from '../../../main/core/app/app-api.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { signInUntil } from '../../support/sign-in-steps.ts';
import { connectClient, useValet } from '../../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, { scopes: ['User.Read'] });

describe('the AppApi over the core', () => {
  it('reports status with the permissions still to grant, and never a token', async () => {
    const api = createAppApi(fx.valet.core);
    const status = await api.getStatus({});
    expect(status).toMatchObject({
      configured: true,
      account: { username: adele.username, active: true },
      endpoint: { running: true, url: fx.valet.endpoint.url },
    });
    expect(status.missingScopes.sort()).toEqual([
      'Calendars.Read',
      'Calendars.ReadWrite',
      'Files.Read',
      'Mail.Read',
      'Mail.Send',
      'People.Read',
    ]);
    expect(JSON.stringify(status)).not.toMatch(/eyJ[\w-]+\./);
  });

  it('creates a key with ready-to-paste configurations, pushes activity, and pages it', async () => {
    const api = createAppApi(fx.valet.core);
    const events: AppEventDto[] = [];
    const unsubscribe = api.subscribe((e) => events.push(e));
    const created = await api.createKey({
      name: 'vscode',
      tools: ['get_user_details', 'auth_status'],
      readOnly: true,
    });
    expect(created.key).toMatchObject({
      name: 'vscode',
      readOnly: true,
      account: { username: adele.username },
    });
    const vscode = JSON.parse(created.configs.vscode);
    expect(vscode.servers).toEqual({
      'mcp-valet': {
        type: 'http',
        url: fx.valet.endpoint.url,
        headers: { Authorization: `Bearer \${input:${vscode.inputs[0].id}}` },
      },
    });
    expect(created.configs.vscode).not.toContain(created.secret);
    expect(JSON.parse(created.configs.claudeDesktop).mcpServers['mcp-valet'].args.at(-1)).toBe(
      'stdio',
    );
    expect(JSON.stringify(await api.listKeys({}))).not.toContain(created.secret);

    const { client } = await connectClient(fx.valet.endpoint.url, created.secret, 'VS Code');
    for (let i = 0; i < 5; i++)
      await client.callTool({ name: i % 2 ? 'auth_status' : 'get_user_details', arguments: {} });
    await client.callTool({ name: 'list_messages', arguments: {} });
    const live = events.filter((e) => e.type === 'activity');
    expect(live).toHaveLength(6);
    expect(live[0]).toMatchObject({
      item: {
        tool: 'get_user_details',
        keyName: 'vscode',
        client: 'VS Code 1.0.0',
        outcome: 'allowed',
        graphRequestIds: [expect.any(String)],
      },
    });

    // The live lines are the ones read back from the log, newest first.
    expect((await api.listActivity({ limit: 6 })).items).toEqual(
      live.map((e) => (e as Extract<AppEventDto, { type: 'activity' }>).item).reverse(),
    );
    const first = await api.listActivity({ limit: 4 });
    expect(first.items.map((i) => i.tool)).toEqual([
      'list_messages',
      'get_user_details',
      'auth_status',
      'get_user_details',
    ]);
    expect(first.items[0]).toMatchObject({ outcome: 'denied', reason: 'not-in-key' });
    const older = await api.listActivity({ limit: 4, before: first.nextBefore! });
    expect(older.items.map((i) => i.tool)).toEqual(['auth_status', 'get_user_details']);
    expect(older.nextBefore).toBeNull();
    expect((await api.listActivity({ tool: 'auth_status' })).items).toHaveLength(2);
    expect((await api.listActivity({ outcome: 'denied' })).items).toHaveLength(1);
    unsubscribe();
  });

  it('shows which settings the environment fixes, and turns tools off', async () => {
    const api = createAppApi(fx.valet.core);
    expect(await api.getSettings({})).toMatchObject({
      configured: true,
      lockedByEnvironment: ['clientId'],
    });
    const policy = await api.setToolEnabled({ tool: 'search_people', enabled: false });
    expect(policy.tools.find((t) => t.tool === 'search_people')).toMatchObject({
      enabled: false,
      title: expect.any(String),
      scopes: ['People.Read'],
    });
    expect((await api.getPolicy({})).tools.find((t) => t.tool === 'send_mail')).toMatchObject({
      approval: true,
      kind: 'write',
    });
  });

  it('has no diagnostics log to show or open where the app writes to a terminal, and says where they go', async () => {
    const api = createAppApi(fx.valet.core, { shell: 'browser' });
    expect(await api.getDiagnostics({})).toEqual({ path: null, recent: [], canOpen: false });
    await expect(api.openDiagnostics({})).rejects.toMatchObject({
      code: 'not_available',
      message: expect.stringContaining('write theirs to the terminal they run in'),
    });
  });

  it('answers a sign-in with its attempt at once, then reports the device code, and the new consent in the status', async () => {
    const api = createAppApi(fx.valet.core);
    const events: AppEventDto[] = [];
    api.subscribe((e) => events.push(e));
    const { attemptId, step } = await signInUntil(
      api,
      { method: 'device-code', scopes: ['Mail.Read'] },
      'device-code',
    );
    expect(step).toMatchObject({
      verificationUri: expect.stringContaining(fx.idp.origin),
      userCode: expect.any(String),
    });
    expect(Date.parse(step.expiresAt)).toBeGreaterThan(Date.now());
    await fx.idp.approveDeviceCode(step.userCode, adele.username);
    await until('the finished step', () =>
      events.some(
        (e) =>
          e.type === 'sign-in-progress' &&
          e.attemptId === attemptId &&
          e.step.kind === 'finished' &&
          e.step.username === adele.username,
      ),
    );
    await until('the new consent in the status', () =>
      events.some(
        (e) => e.type === 'status-changed' && !e.status.missingScopes.includes('Mail.Read'),
      ),
    );
  });

  it('cancels the attempt it is told, and no other', async () => {
    const api = createAppApi(fx.valet.core);
    const events: AppEventDto[] = [];
    api.subscribe((e) => events.push(e));
    const { attemptId } = await signInUntil(api, { method: 'device-code' }, 'device-code');
    await api.cancelSignIn({ attemptId: 'some-other-attempt' });
    expect(events.some((e) => e.type === 'sign-in-progress' && e.step.kind === 'cancelled')).toBe(
      false,
    );
    await api.cancelSignIn({ attemptId });
    expect(events.at(-1)).toEqual({
      type: 'sign-in-progress',
      attemptId,
      step: { kind: 'cancelled' },
    });
    expect((await api.getStatus({})).account?.username).toBe(adele.username);
  });
});

async function until(what: string, probe: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !probe(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!probe()) throw new Error(`timed out waiting for ${what}`);
}
