import { describe, expect, it } from 'vitest';
import { clientConfigs } from '../../../main/core/app/client-configs.ts';

const url = 'http://127.0.0.1:47652/mcp';
const secret = 'mvk_0123456789ab_secretsecretsecretsecretsecretsecret12345';
const self = { command: '/usr/bin/node', args: ['/opt/mcp-valet/dist/main/cli/bin.js'] };

describe('client configurations for a valet key', () => {
  it("VS Code's configuration prompts for the key (a promptString input) and holds no secret", () => {
    const { vscode } = clientConfigs(url, secret, '/data', self);
    expect(JSON.stringify(vscode)).not.toContain(secret);
    expect(vscode).toEqual({
      inputs: [
        {
          type: 'promptString',
          id: 'valet-key',
          description: 'MCP Valet key',
          password: true,
        },
      ],
      servers: {
        'mcp-valet': {
          type: 'http',
          url,
          headers: { Authorization: 'Bearer ${input:valet-key}' },
        },
      },
    });
  });

  it('Cursor and Claude Desktop, which have no prompt, carry the key itself', () => {
    const { cursor, claudeDesktop } = clientConfigs(url, secret, '/data', self);
    expect(cursor).toEqual({
      mcpServers: { 'mcp-valet': { url, headers: { Authorization: `Bearer ${secret}` } } },
    });
    expect(claudeDesktop).toEqual({
      mcpServers: {
        'mcp-valet': {
          command: '/usr/bin/node',
          args: ['/opt/mcp-valet/dist/main/cli/bin.js', 'stdio'],
          env: { VALET_KEY: secret, VALET_DATA_DIR: '/data' },
        },
      },
    });
  });
});
