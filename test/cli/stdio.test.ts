import { createServer, type AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { CLI_ENTRY, cliEnv, runCli } from '../support/cli.ts';
import { useValet } from '../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, { key: 'claude' });

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function shim(env: Record<string, string>): {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
} {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_ENTRY, 'stdio'],
    env: cliEnv(env) as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return {
    client: new Client({ name: 'stdio-test', version: '1.0.0' }),
    transport,
    stderr: () => stderr,
  };
}

describe('mcp-valet stdio', () => {
  it('bridges a stdio client to the endpoint with the key from VALET_KEY', async () => {
    const { client, transport } = shim({ VALET_KEY: fx.secret, VALET_URL: fx.valet.endpoint.url });
    await client.connect(transport);
    expect((await client.listTools()).tools).toHaveLength(9);
    const result = await client.callTool({ name: 'get_user_details', arguments: {} });
    expect(result.structuredContent).toMatchObject({ userPrincipalName: adele.username });
    await client.close();
  });

  it('finds the running endpoint through the data dir when VALET_URL is not set', async () => {
    const { client, transport } = shim({ VALET_KEY: fx.secret, VALET_DATA_DIR: fx.valet.dataDir });
    await client.connect(transport);
    await expect(client.callTool({ name: 'auth_status', arguments: {} })).resolves.toMatchObject({
      structuredContent: { username: adele.username },
    });
    await client.close();
  });

  it('answers the client with a clear error for a rejected key, on stderr too', async () => {
    const { client, transport, stderr } = shim({
      VALET_KEY: `mvk_${'1'.repeat(12)}_${'y'.repeat(43)}`,
      VALET_URL: fx.valet.endpoint.url,
    });
    await expect(client.connect(transport)).rejects.toThrow(
      /MCP Valet refused the valet key in VALET_KEY: Unknown valet key/,
    );
    expect(stderr()).toContain('refused the valet key');
    await client.close();
  });

  it('says when MCP Valet is not running', async () => {
    const port = await closedPort();
    const { client, transport } = shim({
      VALET_KEY: fx.secret,
      VALET_URL: `http://127.0.0.1:${port}/mcp`,
    });
    await expect(client.connect(transport)).rejects.toThrow(
      `MCP Valet is not running at http://127.0.0.1:${port}/mcp: start the app or \`mcp-valet serve\``,
    );
    await client.close();
  });

  it('exits 1 with a clear line when VALET_KEY is missing', async () => {
    const result = await runCli(['stdio'], cliEnv({ VALET_URL: fx.valet.endpoint.url }));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('VALET_KEY is not set');
  });
});
