import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect, it } from 'vitest';
import { createMcpServer } from '../../../../main/core/mcp/server-factory.ts';
import { TOOL_NAMES } from '../../../../main/core/mcp/tool-definition.ts';
import { ALL_TOOLS, toolByName } from '../../../../main/core/mcp/tools/index.ts';
import { connectAs } from '../../../support/runner.ts';
import { runner, seed, keyFor, ids, useToolFixture } from './tool-fixture.ts';

useToolFixture();

it('has the nine contract tools in DESIGN.md order, each with scopes, hints and schemas', () => {
  expect(ALL_TOOLS.map((t) => t.name)).toEqual([...TOOL_NAMES]);
  for (const tool of ALL_TOOLS) {
    expect(toolByName(tool.name)).toBe(tool);
    expect(tool.title).not.toBe('');
    expect(tool.description.length).toBeGreaterThan(80);
    // Every tool but auth_status reaches Microsoft Graph.
    expect(tool.annotations.openWorldHint).toBe(tool.name !== 'auth_status');
    expect(tool.annotations.readOnlyHint).toBe(tool.kind === 'read');
    expect(tool.annotations.destructiveHint).toBe(tool.kind === 'write');
  }
  expect(toolByName('delete_everything')).toBeUndefined();
  expect(ALL_TOOLS.filter((t) => t.kind === 'write').map((t) => t.name)).toEqual([
    'send_mail',
    'create_event',
  ]);
  expect(Object.fromEntries(ALL_TOOLS.map((t) => [t.name, t.scopes]))).toEqual({
    get_user_details: ['User.Read'],
    list_messages: ['Mail.Read'],
    get_message: ['Mail.Read'],
    list_events: ['Calendars.Read'],
    search_files: ['Files.Read'],
    search_people: ['People.Read'],
    send_mail: ['Mail.Send'],
    create_event: ['Calendars.ReadWrite'],
    auth_status: [],
  });
});

it('is served by the MCP server: listed with JSON schemas, and callable with validated output', async () => {
  const server = createMcpServer(ALL_TOOLS, runner);
  const client = await connectAs(server, { key: keyFor() }, { name: 'tools-test' });
  try {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([...TOOL_NAMES]);
    const send = tools.find((t) => t.name === 'send_mail');
    expect(send?.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    expect(send?.inputSchema.required).toEqual(expect.arrayContaining(['to', 'subject', 'body']));
    const listed = (await client.callTool({
      name: 'list_messages',
      arguments: { top: 2 },
    })) as CallToolResult;
    expect(listed.isError).toBeFalsy();
    expect(ids((listed.structuredContent as { messages: Array<{ id: string }> }).messages)).toEqual(
      ids(seed.messages.slice(0, 2)),
    );
    const bad = (await client.callTool({
      name: 'list_messages',
      arguments: { top: 500 },
    })) as CallToolResult;
    expect(bad.isError).toBe(true);
  } finally {
    await client.close();
    await server.close();
  }
});
