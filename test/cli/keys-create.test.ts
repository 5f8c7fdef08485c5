import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { idpEnv } from '../support/auth.ts';
import { cliEnv, runCli } from '../support/cli.ts';
import { connectClient, useValet } from '../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele);

interface KeyCreated {
  secret: string;
  url: string;
  configs: {
    vscode: { servers: { 'mcp-valet': { url: string } } };
    cursor: { mcpServers: { 'mcp-valet': { url: string } } };
    claudeDesktop: { mcpServers: { 'mcp-valet': { env: Record<string, string> } } };
  };
}

describe('mcp-valet keys create', () => {
  it('prints the running endpoint’s URL, not the default port, in the URL and every client configuration', async () => {
    const running = fx.valet.endpoint.url;
    expect(running).not.toContain(':47652/');
    // The CLI's own configuration names the default port; the endpoint runs on another one.
    const env = cliEnv(idpEnv(fx.idp, fx.valet.dataDir, { VALET_GRAPH_URL: fx.valet.graph.url }));
    const created = await runCli(
      ['keys', 'create', '--name', 'cursor', '--tools', 'get_user_details', '--json'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const event = created.events[0] as unknown as KeyCreated;
    expect(event.url).toBe(running);
    expect(event.configs.vscode.servers['mcp-valet'].url).toBe(running);
    expect(event.configs.cursor.mcpServers['mcp-valet'].url).toBe(running);
    const claude = event.configs.claudeDesktop.mcpServers['mcp-valet'].env;
    expect(claude.VALET_KEY).toBe(event.secret);
    // The stdio bridge finds the endpoint (and proves it) through the data dir, not a URL.
    expect(claude.VALET_DATA_DIR).toBe(fx.valet.dataDir);
    expect(claude.VALET_URL).toBeUndefined();
    expect(created.stderr).toContain(running);

    // The printed configuration works as printed.
    const { client } = await connectClient(
      event.configs.cursor.mcpServers['mcp-valet'].url,
      event.secret,
    );
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('get_user_details');
    await client.close();
  });

  it('prints the configured port when no endpoint runs, and never a non-local URL from endpoint.json', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-keys-'));
    const env = cliEnv(idpEnv(fx.idp, dataDir, { VALET_PORT: '47999' }));
    const idle = await runCli(['keys', 'create', '--name', 'a', '--json'], env);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.events[0]).toMatchObject({ url: 'http://127.0.0.1:47999/mcp' });

    await writeFile(
      join(dataDir, 'endpoint.json'),
      JSON.stringify({
        url: 'https://valet.example/mcp',
        pid: process.pid,
        startedAt: new Date().toISOString(),
      }),
      { mode: 0o600 },
    );
    const forged = await runCli(['keys', 'create', '--name', 'b', '--json'], env);
    expect(forged.code, forged.stderr).toBe(0);
    expect(forged.events[0]).toMatchObject({ url: 'http://127.0.0.1:47999/mcp' });
    expect(forged.stdout).not.toContain('valet.example');
  });
});
