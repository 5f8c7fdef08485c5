import { describe, expect, it } from 'vitest';
import { TOOL_NAMES } from '../../../main/core/mcp/tool-definition.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { inspectorCli } from '../../support/inspector-cli.ts';
import { connectClient, useValet } from '../../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, { key: 'clients' });

/** The MCP Inspector CLI against this fixture's endpoint with its valet key. */
function inspector(args: string[]): Promise<unknown> {
  return inspectorCli(fx.valet.endpoint.url, fx.secret, args);
}

describe('external MCP clients over real HTTP', () => {
  it('the MCP Inspector CLI lists the nine tools with their annotations', async () => {
    const listed = (await inspector(['--method', 'tools/list'])) as {
      tools: Array<{ name: string; annotations: Record<string, unknown>; outputSchema?: unknown }>;
    };
    expect(listed.tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
    const send = listed.tools.find((t) => t.name === 'send_mail')!;
    expect(send.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    expect(listed.tools.find((t) => t.name === 'list_messages')!.annotations).toMatchObject({
      readOnlyHint: true,
    });
    expect(listed.tools.every((t) => t.outputSchema)).toBe(true);
  });

  it('the MCP Inspector CLI calls get_user_details and gets the signed-in user from Graph', async () => {
    const result = (await inspector([
      '--method',
      'tools/call',
      '--tool-name',
      'get_user_details',
    ])) as { structuredContent: Record<string, unknown> };
    expect(result.structuredContent).toMatchObject({
      id: adele.id,
      displayName: adele.name,
      userPrincipalName: adele.username,
    });
    expect(
      fx.valet.graph.requests.some((r) => r.path === '/v1.0/me' && r.userId === adele.id),
    ).toBe(true);
  });

  it('the SDK client drives every tool, with data from the Graph stand-in for the signed-in user', async () => {
    const { client, transport } = await connectClient(fx.valet.endpoint.url, fx.secret, 'sdk-e2e');
    const ok = async (name: string, args: Record<string, unknown> = {}) => {
      const result = await client.callTool({ name, arguments: args });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      return result.structuredContent as Record<string, unknown>;
    };
    expect(await ok('get_user_details')).toMatchObject({ userPrincipalName: adele.username });
    const messages = (await ok('list_messages', { top: 5 })) as {
      messages: Array<{ id: string; subject: string }>;
    };
    expect(messages.messages).toHaveLength(5);
    const message = await ok('get_message', { id: messages.messages[0]!.id });
    expect(message).toMatchObject({
      id: messages.messages[0]!.id,
      subject: messages.messages[0]!.subject,
    });
    expect(await ok('list_events', {})).toHaveProperty('events');
    expect(await ok('search_files', { query: 'report' })).toHaveProperty('items');
    expect(await ok('search_people', { query: 'a' })).toHaveProperty('people');
    expect(await ok('auth_status')).toMatchObject({ username: adele.username });
    // The user approves each risky call in the app as it comes.
    const prompts: string[] = [];
    fx.valet.core.approvals.on('approval-requested', (a) => {
      prompts.push(`${a.action}: ${a.summary.map((l) => `${l.label}=${l.value}`).join('; ')}`);
      fx.valet.core.approvals.decide(a.id, { kind: 'once' });
    });
    const before = fx.valet.graph.requests.filter((r) => r.path === '/v1.0/me/sendMail').length;
    await ok('send_mail', {
      to: ['alex@contoso.test'],
      subject: 'Hello from the test',
      body: 'A short note.',
    });
    expect(
      fx.valet.graph.requests.filter((r) => r.path === '/v1.0/me/sendMail' && r.status === 202),
    ).toHaveLength(before + 1);
    const start = new Date(Date.now() + 86_400_000).toISOString();
    const end = new Date(Date.now() + 86_400_000 + 1_800_000).toISOString();
    const created = await ok('create_event', { subject: 'Test sync', start, end });
    expect(created).toHaveProperty('id');
    expect(prompts).toEqual([
      'Send an email: To=alex@contoso.test; Subject=Hello from the test; Body=A short note.',
      expect.stringMatching(/^Create a calendar event: Subject=Test sync; When=.* → .* \(UTC\)$/),
    ]);
    await transport.terminateSession();
    await client.close();
  });
});
