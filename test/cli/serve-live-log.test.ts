import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli, spawnCli } from '../support/cli.ts';

describe('mcp-valet serve --json, live log', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`puts out the tool_call event of every call before it stops on ${signal}`, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'valet-live-'));
      const env = cliEnv({ VALET_DATA_DIR: dataDir, VALET_PORT: '0' });
      const created = await runCli(
        ['keys', 'create', '--name', 'live', '--tools', 'get_user_details', '--json'],
        env,
      );
      expect(created.code).toBe(0);
      const secret = String(created.events[0]?.secret);
      const serve = spawnCli(['serve', '--json'], env);
      const ready = await serve.nextEvent('ready');
      const client = new Client({ name: 'live-log', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(String(ready.url)), {
          requestInit: { headers: { Authorization: `Bearer ${secret}` } },
        }),
      );
      // No app registration is configured: each call fails, and is logged like any other.
      for (let i = 0; i < 20; i++) {
        const result = await client.callTool({ name: 'get_user_details', arguments: {} });
        expect(result.isError).toBe(true);
      }
      serve.child.kill(signal);
      const stopped = await serve.exited;
      expect(stopped.code).toBe(0);
      const names = stopped.events.map((e) => e.event);
      expect(names[0]).toBe('ready');
      expect(names.filter((n) => n === 'tool_call')).toHaveLength(20);
      expect(names.at(-1)).toBe('stopped');
      expect(stopped.events.find((e) => e.event === 'tool_call')).toMatchObject({
        tool: 'get_user_details',
        key: 'live',
        account: null,
        outcome: 'failed',
        error: 'not_configured',
      });
    });
  }
});
