import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../main/demo/idp/index.ts';
import { cliEnv, spawnCli, type CliProcess } from '../support/cli.ts';
import { connectClient } from '../support/valet.ts';

interface DemoEvent {
  signed_in: string;
  secret: string;
  users: Array<{ username: string; password: string }>;
  configs: {
    vscode: { servers: { 'mcp-valet': { url: string; headers: { Authorization: string } } } };
    claudeDesktop: {
      mcpServers: { 'mcp-valet': { command: string; args: string[]; env: Record<string, string> } };
    };
  };
}

async function startDemo(
  dataDir: string,
): Promise<{ demo: CliProcess; info: DemoEvent; url: string }> {
  const demo = spawnCli(['demo', '--json', '--port', '0'], cliEnv({ VALET_DATA_DIR: dataDir }));
  const info = (await demo.nextEvent('demo', 60_000)) as unknown as DemoEvent;
  const ready = await demo.nextEvent('ready');
  return { demo, info, url: String(ready.url) };
}

describe('mcp-valet demo', () => {
  it('runs the whole product with no tenant: the printed configs give working clients', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-demo-'));
    const { demo, info, url } = await startDemo(dataDir);
    try {
      expect(info.signed_in).toBe(DEMO_USERS[0]!.username);
      expect(info.users.map((u) => u.username)).toEqual(DEMO_USERS.map((u) => u.username));
      // VS Code prompts for the key: its configuration names the input, never the secret.
      const vscode = info.configs.vscode.servers['mcp-valet'];
      expect(vscode.url).toBe(url);
      expect(vscode.headers.Authorization).toBe('Bearer ${input:valet-key}');
      expect(JSON.stringify(info.configs.vscode)).not.toContain(info.secret);
      const { client } = await connectClient(vscode.url, info.secret);
      const me = await client.callTool({ name: 'get_user_details', arguments: {} });
      expect(me.structuredContent).toMatchObject({ userPrincipalName: DEMO_USERS[0]!.username });
      await client.close();

      // Claude Desktop's config starts the stdio shim.
      const claude = info.configs.claudeDesktop.mcpServers['mcp-valet'];
      const transport = new StdioClientTransport({
        command: claude.command,
        args: claude.args,
        env: { ...(cliEnv() as Record<string, string>), ...claude.env },
      });
      const stdioClient = new Client({ name: 'claude-like', version: '1' });
      await stdioClient.connect(transport);
      const mail = await stdioClient.callTool({ name: 'list_messages', arguments: { top: 3 } });
      expect(mail.isError).toBeFalsy();
      await stdioClient.close();
    } finally {
      demo.child.kill('SIGINT');
    }
    expect((await demo.exited).code).toBe(0);

    // The ready-made key survives a restart, so a pasted configuration keeps working.
    const again = await startDemo(dataDir);
    try {
      expect(again.info.secret).toBe(info.secret);
    } finally {
      again.demo.child.kill('SIGINT');
    }
    expect((await again.demo.exited).code).toBe(0);
  }, 120_000);
});
