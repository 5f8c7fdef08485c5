import { describe, expect, it } from 'vitest';
import type { AppEventDto } from '../../../preload/contract.ts';
import { createAppApi } from '../../../main/core/app/app-api.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
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

  it('starts a device code sign-in for missing consent and reports the outcome as events', async () => {
    const api = createAppApi(fx.valet.core);
    const events: AppEventDto[] = [];
    api.subscribe((e) => events.push(e));
    const start = await api.signIn({ method: 'device-code', scopes: ['Mail.Read'] });
    expect(start).toMatchObject({
      kind: 'device-code',
      verificationUri: expect.stringContaining(fx.idp.origin),
      userCode: expect.any(String),
    });
    if (start.kind !== 'device-code') throw new Error('no device code');
    await fx.idp.approveDeviceCode(start.userCode, adele.username);
    for (
      let i = 0;
      i < 100 &&
      !events.some(
        (e) => e.type === 'status-changed' && !e.status.missingScopes.includes('Mail.Read'),
      );
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    expect(
      events.some(
        (e) => e.type === 'status-changed' && !e.status.missingScopes.includes('Mail.Read'),
      ),
    ).toBe(true);
  });
});
