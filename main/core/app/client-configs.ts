import { realpathSync } from 'node:fs';

/** Ready-to-paste MCP client configurations for a valet key. */
export interface ClientConfigs {
  vscode: unknown;
  cursor: unknown;
  claudeDesktop: unknown;
}

/** How a client starts `mcp-valet` (Claude Desktop runs `mcp-valet stdio`). */
export interface SelfCommand {
  command: string;
  args: string[];
}

/** How to start this CLI again: this Node and this entry script. */
export function selfCommand(): SelfCommand {
  const entry = process.argv[1];
  return { command: process.execPath, args: entry ? [realpathSync(entry)] : [] };
}

/** The id of the VS Code input that asks for the valet key. */
export const VSCODE_KEY_INPUT = 'valet-key';

/**
 * The configuration each client needs: VS Code and Cursor speak Streamable HTTP with an
 * Authorization header. VS Code's file usually sits in a repository, and VS Code can prompt:
 * it asks for the key (a password input it keeps in its own secret storage), so the file holds
 * no secret. Cursor cannot prompt, so its file (in the user's home) carries the key. Claude
 * Desktop starts the stdio shim, which finds the running endpoint (and the secret it proves
 * itself with) in `dataDir`, so it gets that directory explicitly: Claude Desktop may start it
 * with another environment than the user's shell.
 */
export function clientConfigs(
  url: string,
  secret: string,
  dataDir: string,
  self: SelfCommand = selfCommand(),
): ClientConfigs {
  return {
    vscode: {
      inputs: [
        {
          type: 'promptString',
          id: VSCODE_KEY_INPUT,
          description: 'MCP Valet key',
          password: true,
        },
      ],
      servers: {
        'mcp-valet': {
          type: 'http',
          url,
          headers: { Authorization: `Bearer \${input:${VSCODE_KEY_INPUT}}` },
        },
      },
    },
    cursor: {
      mcpServers: { 'mcp-valet': { url, headers: { Authorization: `Bearer ${secret}` } } },
    },
    claudeDesktop: {
      mcpServers: {
        'mcp-valet': {
          command: self.command,
          args: [...self.args, 'stdio'],
          env: { VALET_KEY: secret, VALET_DATA_DIR: dataDir },
        },
      },
    },
  };
}
