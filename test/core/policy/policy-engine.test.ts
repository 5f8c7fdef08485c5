import { describe, expect, it } from 'vitest';
import { TOOL_NAMES, type ToolName } from '../../../main/core/mcp/tool-definition.ts';
import { ALL_TOOLS } from '../../../main/core/mcp/tools/index.ts';
import {
  decide,
  effectiveToolPolicies,
  toolsForKey,
  type DenyRule,
} from '../../../main/core/policy/policy-engine.ts';
import { policySchema, type Policy } from '../../../main/core/policy/policy-schema.ts';

const READS: ToolName[] = [
  'get_user_details',
  'list_messages',
  'get_message',
  'list_events',
  'search_files',
  'search_people',
  'auth_status',
];
const ALL: ToolName[] = [...TOOL_NAMES];
const tool = (name: string) => ALL_TOOLS.find((t) => t.name === name);
const policy = (p: unknown = {}): Policy => policySchema.parse(p);
const mailRole = policy({ tools: { send_mail: { requireRole: 'Valet.Mail.Send' } } });

interface Case {
  name: string;
  tool: string;
  keyTools: ToolName[];
  readOnly?: boolean;
  roles?: string[];
  policy?: Policy;
  expect:
    { allowed: true; approval: boolean } | { allowed: false; rule: DenyRule; message: RegExp };
}

const cases: Case[] = [
  {
    name: 'a read tool in the key list',
    tool: 'get_user_details',
    keyTools: READS,
    expect: { allowed: true, approval: false },
  },
  {
    name: 'list_messages in the key list',
    tool: 'list_messages',
    keyTools: READS,
    expect: { allowed: true, approval: false },
  },
  {
    name: 'auth_status in the key list',
    tool: 'auth_status',
    keyTools: ['auth_status'],
    expect: { allowed: true, approval: false },
  },
  {
    name: 'send_mail needs approval',
    tool: 'send_mail',
    keyTools: ALL,
    expect: { allowed: true, approval: true },
  },
  {
    name: 'create_event needs approval',
    tool: 'create_event',
    keyTools: ALL,
    expect: { allowed: true, approval: true },
  },
  {
    name: 'a tool outside the key list',
    tool: 'list_messages',
    keyTools: ['get_user_details'],
    expect: {
      allowed: false,
      rule: 'not-in-key',
      message: /^The valet key 'cursor' may not call list_messages; it may call get_user_details/,
    },
  },
  {
    name: 'a write tool outside a read list',
    tool: 'send_mail',
    keyTools: READS,
    expect: { allowed: false, rule: 'not-in-key', message: /may not call send_mail/ },
  },
  {
    name: 'an empty key list',
    tool: 'auth_status',
    keyTools: [],
    expect: { allowed: false, rule: 'not-in-key', message: /it may call no tools/ },
  },
  {
    name: 'read-only key, send_mail listed',
    tool: 'send_mail',
    keyTools: ALL,
    readOnly: true,
    expect: {
      allowed: false,
      rule: 'read-only',
      message: /^The valet key 'cursor' is read-only, so it may not call send_mail/,
    },
  },
  {
    name: 'read-only key, create_event listed',
    tool: 'create_event',
    keyTools: ALL,
    readOnly: true,
    expect: { allowed: false, rule: 'read-only', message: /key 'cursor' is read-only/ },
  },
  {
    name: 'read-only key, a read tool',
    tool: 'list_events',
    keyTools: ALL,
    readOnly: true,
    expect: { allowed: true, approval: false },
  },
  {
    name: 'read-only key, auth_status',
    tool: 'auth_status',
    keyTools: ALL,
    readOnly: true,
    expect: { allowed: true, approval: false },
  },
  {
    name: 'a tool turned off for everyone',
    tool: 'list_messages',
    keyTools: ALL,
    policy: policy({ tools: { list_messages: { enabled: false } } }),
    expect: {
      allowed: false,
      rule: 'disabled',
      message: /^list_messages is turned off for everyone/,
    },
  },
  {
    name: 'send_mail turned off, even with approval',
    tool: 'send_mail',
    keyTools: ALL,
    policy: policy({ tools: { send_mail: { enabled: false } } }),
    expect: { allowed: false, rule: 'disabled', message: /send_mail is turned off/ },
  },
  {
    name: 'turned off beats the key list',
    tool: 'search_files',
    keyTools: ['get_user_details'],
    policy: policy({ tools: { search_files: { enabled: false } } }),
    expect: { allowed: false, rule: 'disabled', message: /turned off/ },
  },
  {
    name: 'explicitly on',
    tool: 'search_files',
    keyTools: ALL,
    policy: policy({ tools: { search_files: { enabled: true } } }),
    expect: { allowed: true, approval: false },
  },
  {
    name: 'another tool turned off does not matter',
    tool: 'search_people',
    keyTools: ALL,
    policy: policy({ tools: { list_messages: { enabled: false } } }),
    expect: { allowed: true, approval: false },
  },
  {
    name: 'required role present',
    tool: 'send_mail',
    keyTools: ALL,
    roles: ['Valet.Mail.Send'],
    policy: mailRole,
    expect: { allowed: true, approval: true },
  },
  {
    name: 'required role missing',
    tool: 'send_mail',
    keyTools: ALL,
    roles: [],
    policy: mailRole,
    expect: {
      allowed: false,
      rule: 'missing-role',
      message:
        /^send_mail requires the app role Valet\.Mail\.Send, which adele@contoso\.test does not have/,
    },
  },
  {
    name: 'other roles only',
    tool: 'send_mail',
    keyTools: ALL,
    roles: ['Valet.Calendar.Write'],
    policy: mailRole,
    expect: {
      allowed: false,
      rule: 'missing-role',
      message: /requires the app role Valet\.Mail\.Send/,
    },
  },
  {
    name: 'role names are exact',
    tool: 'send_mail',
    keyTools: ALL,
    roles: ['valet.mail.send'],
    policy: mailRole,
    expect: { allowed: false, rule: 'missing-role', message: /Valet\.Mail\.Send/ },
  },
  {
    name: 'a role on a read tool',
    tool: 'list_messages',
    keyTools: ALL,
    roles: ['Valet.Mail.Read'],
    policy: policy({ tools: { list_messages: { requireRole: 'Valet.Mail.Read' } } }),
    expect: { allowed: true, approval: false },
  },
  {
    name: 'a role on a read tool, missing',
    tool: 'list_messages',
    keyTools: ALL,
    policy: policy({ tools: { list_messages: { requireRole: 'Valet.Mail.Read' } } }),
    expect: {
      allowed: false,
      rule: 'missing-role',
      message: /list_messages requires the app role Valet\.Mail\.Read/,
    },
  },
  {
    name: 'the role does not matter for other tools',
    tool: 'list_events',
    keyTools: ALL,
    policy: mailRole,
    expect: { allowed: true, approval: false },
  },
  {
    name: 'read-only is checked before the role',
    tool: 'send_mail',
    keyTools: ALL,
    readOnly: true,
    roles: [],
    policy: mailRole,
    expect: { allowed: false, rule: 'read-only', message: /read-only/ },
  },
  {
    name: 'the key list is checked before the role',
    tool: 'send_mail',
    keyTools: READS,
    policy: mailRole,
    expect: { allowed: false, rule: 'not-in-key', message: /may not call send_mail/ },
  },
  {
    name: 'a read tool marked for approval',
    tool: 'search_files',
    keyTools: ALL,
    policy: policy({ tools: { search_files: { approval: true } } }),
    expect: { allowed: true, approval: true },
  },
  {
    name: 'approval cannot be switched off for a write tool',
    tool: 'create_event',
    keyTools: ALL,
    policy: policy({ tools: { create_event: { approval: false } } }),
    expect: { allowed: true, approval: true },
  },
  {
    name: 'an unknown tool',
    tool: 'delete_mailbox',
    keyTools: ALL,
    expect: {
      allowed: false,
      rule: 'unknown-tool',
      message: /^There is no tool named 'delete_mailbox'/,
    },
  },
  {
    name: 'an unknown tool even if a key lists it',
    tool: 'read_everything',
    keyTools: ['read_everything' as ToolName],
    expect: { allowed: false, rule: 'unknown-tool', message: /no tool named 'read_everything'/ },
  },
];

describe('policy engine', () => {
  it('has at least 25 cases', () => expect(cases.length).toBeGreaterThanOrEqual(25));

  it.each(cases)('$name', (c) => {
    const found = tool(c.tool);
    const decision = decide({
      toolName: c.tool,
      tool: found && { name: found.name, kind: found.kind },
      key: { name: 'cursor', tools: c.keyTools, readOnly: c.readOnly ?? false },
      roles: c.roles ?? [],
      account: 'adele@contoso.test',
      policy: c.policy ?? policy(),
    });
    if (c.expect.allowed) expect(decision).toEqual(c.expect);
    else {
      expect(decision).toMatchObject({ allowed: false, rule: c.expect.rule });
      expect((decision as { message: string }).message).toMatch(c.expect.message);
    }
  });

  it('shows the effective policy of every tool', () => {
    const tools = effectiveToolPolicies(
      ALL_TOOLS,
      policy({
        tools: {
          list_messages: { enabled: false },
          send_mail: { requireRole: 'Valet.Mail.Send' },
          search_files: { approval: true },
        },
      }),
    );
    expect(tools.map((t) => t.tool)).toEqual(ALL);
    expect(tools.find((t) => t.tool === 'list_messages')).toMatchObject({
      enabled: false,
      approval: false,
    });
    expect(tools.find((t) => t.tool === 'send_mail')).toMatchObject({
      enabled: true,
      approval: true,
      requireRole: 'Valet.Mail.Send',
    });
    expect(tools.find((t) => t.tool === 'search_files')).toMatchObject({ approval: true });
    expect(tools.find((t) => t.tool === 'create_event')).toMatchObject({
      approval: true,
      requireRole: null,
    });
  });

  it('shows a key exactly the tools that its own list and read-only flag let it call', () => {
    const names = (key: { tools: ToolName[]; readOnly: boolean }) =>
      toolsForKey(ALL_TOOLS, { name: 'cursor', ...key }).map((t) => t.name);
    expect(names({ tools: ALL, readOnly: false })).toEqual(ALL);
    expect(names({ tools: ALL, readOnly: true })).toEqual(READS);
    expect(names({ tools: ['send_mail', 'get_message'], readOnly: false })).toEqual([
      'get_message',
      'send_mail',
    ]);
    expect(names({ tools: ['send_mail', 'create_event'], readOnly: true })).toEqual([]);
    // Every tool shown is one decide() lets the key call under a policy that switches nothing off.
    for (const readOnly of [false, true])
      for (const t of toolsForKey(ALL_TOOLS, { name: 'cursor', tools: ALL, readOnly }))
        expect(
          decide({
            toolName: t.name,
            tool: t,
            key: { name: 'cursor', tools: ALL, readOnly },
            roles: [],
            account: 'adele@contoso.test',
            policy: policy(),
          }).allowed,
        ).toBe(true);
  });

  it('refuses a policy that names an unknown tool or setting', () => {
    expect(policySchema.safeParse({ tools: { delete_mailbox: { enabled: false } } }).success).toBe(
      false,
    );
    expect(policySchema.safeParse({ tools: { send_mail: { enable: false } } }).success).toBe(false);
    expect(policySchema.safeParse({ approvalTimeoutSeconds: 1 }).success).toBe(false);
  });
});
