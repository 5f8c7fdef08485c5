import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { idpEnv } from '../support/auth.ts';
import { cliEnv, runCli, spawnCli } from '../support/cli.ts';
import { useIdpAndGraph } from '../support/fixtures.ts';
import { connectClient } from '../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useIdpAndGraph();

describe('mcp-valet serve', () => {
  it('serves after `login`, tells status where it is, drops a revoked key, and shuts down cleanly on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-serve-'));
    const env = cliEnv(
      idpEnv(fx.idp, dataDir, {
        VALET_GRAPH_URL: fx.graph.url,
        VALET_ALLOW_PLAINTEXT_CACHE: '1',
        VALET_PORT: '0',
      }),
    );
    const login = spawnCli(['login', '--device-code', '--scopes', 'Mail.Read', '--json'], env);
    const code = await login.nextEvent('device_code');
    await fx.idp.approveDeviceCode(String(code.user_code), adele.username);
    expect((await login.exited).code).toBe(0);

    const created = await runCli(['keys', 'create', '--name', 'vscode', '--json'], env);
    expect(created.code).toBe(0);
    const event = created.events[0]!;
    expect(event).toMatchObject({
      event: 'key_created',
      key: {
        name: 'vscode',
        tools: expect.arrayContaining(['get_user_details']),
        account: { username: adele.username },
      },
    });
    const secret = String(event.secret);
    expect(created.stderr).toContain(secret);

    const serve = spawnCli(['serve', '--json'], env);
    const ready = await serve.nextEvent('ready');
    const url = String(ready.url);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect((await runCli(['status', '--json'], env)).events[0]).toMatchObject({
      endpoint: { url },
    });

    const { client } = await connectClient(url, secret);
    const me = await client.callTool({ name: 'get_user_details', arguments: {} });
    expect(me.structuredContent).toMatchObject({ userPrincipalName: adele.username });
    const call = await serve.nextEvent('tool_call');
    expect(call).toMatchObject({
      tool: 'get_user_details',
      key: 'vscode',
      account: adele.username,
      outcome: 'ok',
      graph_request_ids: [expect.any(String)],
    });

    expect((await runCli(['keys', 'list', '--json'], env)).events[0]).toMatchObject({
      keys: [{ name: 'vscode', lastUsedAt: expect.any(String) }],
    });
    expect((await runCli(['keys', 'revoke', 'vscode', '--json'], env)).code).toBe(0);
    await expect(client.callTool({ name: 'get_user_details', arguments: {} })).rejects.toThrow(
      /401|revoked/,
    );

    serve.child.kill('SIGTERM');
    const stopped = await serve.exited;
    expect(stopped.code).toBe(0);
    expect(stopped.events.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGTERM' });
    expect(existsSync(join(dataDir, 'endpoint.json'))).toBe(false);
    expect((await runCli(['status', '--json'], env)).events[0]).toMatchObject({ endpoint: null });
  });

  it('refuses an unknown tool name in keys create, naming the tools', async () => {
    const env = cliEnv({ VALET_DATA_DIR: await mkdtemp(join(tmpdir(), 'valet-serve-')) });
    const result = await runCli(
      ['keys', 'create', '--name', 'x', '--tools', 'read_everything', '--json'],
      env,
    );
    expect(result.code).toBe(1);
    expect(result.events[0]).toMatchObject({
      code: 'unknown_tool',
      message: expect.stringContaining(
        'Unknown tool read_everything: the tools are get_user_details, list_messages',
      ),
    });
  });
});
