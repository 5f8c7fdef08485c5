import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpEndpoint } from '../../../main/core/endpoint/mcp-endpoint.ts';
import { KeyStore, type ValetKey } from '../../../main/core/keys/key-store.ts';
import { TOOL_NAMES } from '../../../main/core/mcp/tool-definition.ts';
import { connectClient } from '../../support/valet.ts';

// What a request carries into MCP: the endpoint attaches the whole caller to authInfo.extra,
// so the server built for a session needs nothing else to know who calls.

let endpoint: McpEndpoint;
let keys: KeyStore;
let secret: string;
let key: ValetKey;

/** A server whose one tool says what its request carries. */
function standIn(): McpServer {
  const server = new McpServer({ name: 'stand-in', version: '1' });
  server.registerTool('who', { description: 'says who calls' }, (extra) => {
    const carried = extra.authInfo?.extra ?? {};
    const caller = carried.caller as
      { key: ValetKey; client?: { name: string; version: string }; sessionId?: string } | undefined;
    const seen = {
      keyId: caller?.key.id,
      client: caller?.client,
      sessionId: caller?.sessionId,
      requestSessionId: extra.sessionId,
      closed: carried.closed instanceof AbortSignal ? carried.closed.aborted : 'missing',
    };
    return { content: [{ type: 'text', text: JSON.stringify(seen) }] };
  });
  return server;
}

beforeAll(async () => {
  keys = new KeyStore(await mkdtemp(join(tmpdir(), 'valet-caller-')));
  const created = await keys.create({
    name: 'caller',
    tools: [...TOOL_NAMES],
    readOnly: false,
    account: null,
  });
  secret = created.secret;
  key = created.key;
  endpoint = new McpEndpoint({ port: 0, keys, createServer: standIn });
  await endpoint.start();
});

afterAll(async () => {
  await endpoint?.close();
});

describe('the caller of a request', () => {
  it('is attached whole to authInfo.extra: the key, the client as it named itself, the session and the hang-up signal', async () => {
    const { client, transport } = await connectClient(endpoint.url, secret, 'Claude Desktop');
    try {
      const result = (await client.callTool({ name: 'who', arguments: {} })) as CallToolResult;
      const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
      expect(JSON.parse(text)).toEqual({
        keyId: key.id,
        client: { name: 'Claude Desktop', version: '1.0.0' },
        sessionId: transport.sessionId,
        requestSessionId: transport.sessionId,
        closed: false,
      });
    } finally {
      await client.close();
    }
  });

  it('names each session’s own client when one key serves two', async () => {
    const a = await connectClient(endpoint.url, secret, 'VS Code');
    const b = await connectClient(endpoint.url, secret, 'Cursor');
    try {
      const seen = async (c: typeof a) => {
        const r = (await c.client.callTool({ name: 'who', arguments: {} })) as CallToolResult;
        return JSON.parse(r.content[0]?.type === 'text' ? r.content[0].text : '{}') as {
          client: { name: string };
          sessionId: string;
        };
      };
      const [fromA, fromB] = [await seen(a), await seen(b)];
      expect([fromA.client.name, fromB.client.name]).toEqual(['VS Code', 'Cursor']);
      expect([fromA.sessionId, fromB.sessionId]).toEqual([
        a.transport.sessionId,
        b.transport.sessionId,
      ]);
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });
});
