import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../main/core/audit/audit-types.ts';
import { READ_TOOLS, TOOL_NAMES, type ToolName } from '../../../main/core/mcp/tool-definition.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { connectClient, useValet } from '../../support/valet.ts';
import { within } from '../../support/within.ts';
import { auditRecords } from '../../support/audit-records.ts';

// Every tools/call through the real endpoint and a real MCP client: the policy speaks first,
// then the arguments are checked, and each call is in the audit log as allowed, denied or failed.

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele);

const sent = () =>
  fx.valet.graph.requests.filter((r) => r.method === 'POST' && r.path === '/v1.0/me/sendMail');
const text = (r: unknown) =>
  (r as CallToolResult).content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

/** The tool_call records of a key, oldest first. */
function callsOf(keyName: string): Promise<AuditRecord[]> {
  return auditRecords(
    fx.valet.core.audit.dir,
    (r) => r.type === 'tool_call' && r.actor?.keyName === keyName,
  );
}

/** Every approval prompt of this file, as `key name: tool`. */
const prompts: string[] = [];
let watching = false;

/** A client connected with a new key, and the approval prompts its calls raised. */
async function clientFor(options: { name: string; tools?: ToolName[]; readOnly?: boolean }) {
  if (!watching) {
    fx.valet.core.approvals.on('approval-requested', (a) =>
      prompts.push(`${a.key.name}: ${a.tool}`),
    );
    watching = true;
  }
  const { secret } = await fx.valet.createKey(options);
  const { client } = await connectClient(fx.valet.endpoint.url, secret);
  return {
    client,
    /** Calls a tool; a call that never answers (say, one left waiting for approval) fails at once. */
    call: (name: string, args: Record<string, unknown>) =>
      within(client.callTool({ name, arguments: args }), `answer to ${name}`),
    prompted: () => prompts.filter((p) => p.startsWith(`${options.name}: `)),
  };
}

const mail = { to: ['alex@contoso.test'], subject: 'Numbers', body: 'Hi Alex' };

describe('policy first, then the arguments, and every tools/call audited', () => {
  it("refuses send_mail to a read-only key with the policy's message, audits it as denied, and sends nothing", async () => {
    const { call, prompted } = await clientFor({ name: 'reader', readOnly: true });
    const before = sent().length;
    const result = await call('send_mail', mail);
    expect(result.isError).toBe(true);
    expect(text(result)).toBe(
      "The valet key 'reader' is read-only, so it may not call send_mail, which changes data",
    );
    expect(prompted()).toEqual([]);
    expect(sent().length).toBe(before);
    expect(await callsOf('reader')).toMatchObject([
      {
        outcome: 'denied',
        details: { tool: 'send_mail', rule: 'read-only', error: 'policy_denied' },
      },
    ]);
  });

  it("gives a key that may not call a tool the policy's refusal, not the tool's argument errors", async () => {
    const { call } = await clientFor({ name: 'profile-only', tools: ['get_user_details'] });
    const readOnly = await clientFor({ name: 'read-only-2', readOnly: true });
    const before = sent().length;
    const notInKey = await call('get_message', { id: '../../users/x' });
    expect(text(notInKey)).toMatch(/^The valet key 'profile-only' may not call get_message;/);
    const badMail = await readOnly.call('send_mail', { to: ['not-an-address'] });
    expect(text(badMail)).toBe(
      "The valet key 'read-only-2' is read-only, so it may not call send_mail, which changes data",
    );
    expect(sent().length).toBe(before);
    expect(await callsOf('profile-only')).toMatchObject([
      { outcome: 'denied', details: { tool: 'get_message', rule: 'not-in-key' } },
    ]);
    expect(await callsOf('read-only-2')).toMatchObject([
      { outcome: 'denied', details: { tool: 'send_mail', rule: 'read-only' } },
    ]);
  });

  it('audits calls refused by argument validation as failed, and asks no approval for them', async () => {
    const { call, prompted } = await clientFor({ name: 'validated' });
    const before = sent().length;
    const path = await call('get_message', { id: '../../users/x' });
    expect(path.isError).toBe(true);
    expect(text(path)).toMatch(/^Invalid arguments for get_message: id: /);
    const address = await call('send_mail', { ...mail, to: ['not-an-address'] });
    expect(address.isError).toBe(true);
    expect(text(address)).toMatch(/^Invalid arguments for send_mail: to\.0: /);
    expect(prompted()).toEqual([]);
    expect(sent().length).toBe(before);
    expect(fx.valet.graph.requests.some((r) => r.path.includes('users/x'))).toBe(false);
    const calls = await callsOf('validated');
    expect(calls.map((r) => [r.details?.tool, r.outcome, r.details?.error])).toEqual([
      ['get_message', 'failed', 'invalid_arguments'],
      ['send_mail', 'failed', 'invalid_arguments'],
    ]);
    // Refused arguments are not parsed, so none of them reach the log.
    expect(JSON.stringify(calls)).not.toContain('users/x');
    expect(JSON.stringify(calls)).not.toContain('not-an-address');
  });

  it('refuses a tool name that does not exist and audits it as denied', async () => {
    const { call } = await clientFor({ name: 'guesser' });
    const result = await call('delete_mailbox', {});
    expect(result.isError).toBe(true);
    expect(text(result)).toBe("There is no tool named 'delete_mailbox'");
    expect(await callsOf('guesser')).toMatchObject([
      { outcome: 'denied', details: { tool: 'delete_mailbox', rule: 'unknown-tool' } },
    ]);
  });

  it('audits a tools/call whose arguments are not an object, or that names no tool', async () => {
    const { client, prompted } = await clientFor({ name: 'malformed' });
    const before = sent().length;
    // What a careless or hostile client can put on the wire, past any typing of its own.
    const raw = (params: Record<string, unknown>) =>
      within(
        client.request({ method: 'tools/call', params } as never, CallToolResultSchema),
        'answer to a malformed tools/call',
      );
    const stringArgs = await raw({ name: 'send_mail', arguments: 'send it to everyone' });
    expect(stringArgs.isError).toBe(true);
    expect(text(stringArgs)).toMatch(/^Invalid arguments for send_mail: /);
    const numberName = await raw({ name: 42, arguments: {} });
    expect(text(numberName)).toBe(
      "This tools/call names no tool: put a tool's name from tools/list in params.name",
    );
    expect(prompted()).toEqual([]);
    expect(sent().length).toBe(before);
    expect(
      (await callsOf('malformed')).map((r) => [r.details?.tool, r.outcome, r.details?.error]),
    ).toEqual([
      ['send_mail', 'failed', 'invalid_arguments'],
      ['', 'denied', 'policy_denied'],
    ]);
  });
});

describe('tools/list', () => {
  it('lists every tool to a key with every tool', async () => {
    const { client } = await clientFor({ name: 'everything' });
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual([...TOOL_NAMES]);
  });

  it('leaves the write tools out for a read-only key', async () => {
    const { client } = await clientFor({ name: 'lister', readOnly: true });
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual([...READ_TOOLS]);
    expect(names).not.toContain('send_mail');
    expect(names).not.toContain('create_event');
  });

  it("lists only the key's own tools, in contract order", async () => {
    const { client } = await clientFor({
      name: 'two-tools',
      tools: ['send_mail', 'get_user_details'],
    });
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual([
      'get_user_details',
      'send_mail',
    ]);
  });

  it('still lists a tool turned off for everyone, which then answers with the policy message', async () => {
    const { client, call } = await clientFor({ name: 'switched' });
    await fx.valet.core.setToolEnabled('search_people', false);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('search_people');
      expect(text(await call('search_people', { query: 'a' }))).toBe(
        'search_people is turned off for everyone by the MCP Valet policy; an admin can turn it on again',
      );
    } finally {
      await fx.valet.core.setToolEnabled('search_people', true);
    }
  });
});
