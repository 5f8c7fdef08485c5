import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import {
  ApprovalService,
  type ApprovalOutcome,
  type PendingApproval,
} from '../../../main/core/approvals/approval-service.ts';
import { AuditLog } from '../../../main/core/audit/audit-log.ts';
import type { AuditEvent, AuditStamp } from '../../../main/core/audit/audit-types.ts';
import { MeCache } from '../../../main/core/graph/me-cache.ts';
import type { ValetKey } from '../../../main/core/keys/key-store.ts';
import { toolCallOf } from '../../../main/core/mcp/call-record.ts';
import { createMcpServer } from '../../../main/core/mcp/server-factory.ts';
import type { GraphUser } from '../../../main/core/mcp/tool-definition.ts';
import {
  ToolRunner,
  type Caller,
  type ToolCallRecord,
  type ToolRunnerDeps,
} from '../../../main/core/mcp/tool-runner.ts';
import { ALL_TOOLS } from '../../../main/core/mcp/tools/index.ts';
import { getUserDetails } from '../../../main/core/mcp/tools/get-user-details.ts';
import { sendMail } from '../../../main/core/mcp/tools/send-mail.ts';
import { DEFAULT_POLICY } from '../../../main/core/policy/policy-schema.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { auditRecords } from '../../support/audit-records.ts';
import { connectAs } from '../../support/runner.ts';
import { useValet } from '../../support/valet.ts';
import { within } from '../../support/within.ts';

// The runner against the real core's sign-in and Graph client (a Graph stand-in behind it),
// with audit writers that the tests hold, fail or watch, to check that nothing goes out, and
// no mail is sent, without its record.

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele);

const BODY = 'The merger closes on Friday. Zebra-7719.';
const mail = { to: ['alex@contoso.test'], subject: 'Friday', body: BODY };
const sent = () =>
  fx.valet.graph.requests.filter((r) => r.method === 'POST' && r.path === '/v1.0/me/sendMail');
const textOf = (r: CallToolResult) =>
  r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

/** An audit writer that keeps what it is given and can hold or fail records of chosen types. */
function auditWriter(rules: { hold?: AuditEvent['type']; fail?: AuditEvent['type'] } = {}) {
  const written: AuditEvent[] = [];
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reached: (event: AuditEvent) => void = () => undefined;
  const held = new Promise<AuditEvent>((resolve) => (reached = resolve));
  return {
    written,
    /** Resolves with the held record once the runner hands it over. */
    held,
    release: () => release(),
    write: async (event: AuditEvent) => {
      if (event.type === rules.fail) throw new Error('ENOSPC: no space left on device, write');
      if (event.type === rules.hold) {
        reached(event);
        await released;
      }
      written.push(event);
    },
  };
}

/** A runner over the running core's sign-in and Graph client, with this test's audit writer. */
function runnerWith(
  audit: ToolRunnerDeps['audit'],
  approvals?: ApprovalService,
  onCall?: ToolRunnerDeps['onCall'],
) {
  const approving = approvals ?? new ApprovalService();
  if (!approvals)
    approving.on('approval-requested', (a) => approving.decide(a.id, { kind: 'once' }));
  return new ToolRunner({
    auth: fx.valet.core.auth,
    graph: fx.valet.core.graph,
    meCache: new MeCache<GraphUser>(),
    policy: async () => DEFAULT_POLICY,
    approvals: approving,
    audit,
    ...(onCall ? { onCall } : {}),
  });
}

async function callerFor(name: string): Promise<Caller> {
  return { key: (await fx.valet.createKey({ name })).key };
}

const live = () => new AbortController().signal;
/** What a failed write says when the writer's error is not the audit log's own. */
const GENERIC =
  'The audit record could not be written (ENOSPC: no space left on device, write): make room on the disk of the MCP Valet data folder or make it writable. Then check the log with `mcp-valet audit verify`';

/** A real audit log that cannot write: its folder's path runs through a file. */
async function brokenAuditLog(): Promise<AuditLog> {
  const dir = await mkdtemp(join(tmpdir(), 'valet-broken-audit-'));
  await writeFile(join(dir, 'file'), '');
  return new AuditLog(join(dir, 'file'));
}

describe('the audit record comes before the result', () => {
  it('holds the result of a call until its tool_call record is written', async () => {
    const audit = auditWriter({ hold: 'tool_call' });
    const runner = runnerWith(audit.write);
    let settled = false;
    const result = runner
      .call(getUserDetails, {}, await callerFor('held'), live())
      .finally(() => (settled = true));
    expect(await within(audit.held, 'tool_call record from the runner')).toMatchObject({
      type: 'tool_call',
      outcome: 'allowed',
    });
    for (let i = 0; i < 20; i++) await tick();
    expect(settled).toBe(false);
    audit.release();
    const done = await within(result, 'result once the record was written');
    expect(done.isError).toBeFalsy();
    expect(done.structuredContent).toMatchObject({ displayName: adele.name });
  });

  it('withholds the result, with an error naming the cause and the fix, when its record cannot be written', async () => {
    const log = await brokenAuditLog();
    const runner = runnerWith((event) => log.append(event));
    const caller = await callerFor('unrecorded');
    const result = await within(runner.call(getUserDetails, {}, caller, live()), 'answer');
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    const text = textOf(result);
    expect(text).toMatch(
      /^get_user_details ran, but its result is withheld because the call could not be audited\. The audit record could not be written to .+ \(ENOTDIR: not a directory, .+\): .+\. Then check the log with `mcp-valet audit verify`$/,
    );
    expect(text).toContain(log.dir);
    expect(text).not.toContain(adele.name);
  });

  it('gives a refused call the audit error too when its record cannot be written', async () => {
    const runner = runnerWith(auditWriter({ fail: 'tool_call' }).write);
    const { key } = await fx.valet.createKey({ name: 'refused', tools: ['auth_status'] });
    const result = await within(runner.call(getUserDetails, {}, { key }, live()), 'answer');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      `get_user_details was not run, and the call could not be audited. ${GENERIC}`,
    );
  });
});

describe('one record of each call', () => {
  it('tells the owner of each call once it is written, with the number and time the log gave it, and the log says what the record says', async () => {
    const log = new AuditLog(await mkdtemp(join(tmpdir(), 'valet-runner-told-')));
    const told: Array<{ record: ToolCallRecord; written: AuditStamp | undefined }> = [];
    const runner = runnerWith(
      (event) => log.append(event),
      undefined,
      (record, written) => told.push({ record: structuredClone(record), written }),
    );
    const caller = await callerFor('told');
    const { key: narrow } = await fx.valet.createKey({ name: 'narrow', tools: ['auth_status'] });
    await within(runner.call(getUserDetails, {}, caller, live()), 'allowed call');
    await within(runner.call(getUserDetails, {}, { key: narrow }, live()), 'refused call');
    await within(runner.call(sendMail, mail, caller, live()), 'approved call');
    await within(runner.call('no_such_tool', {}, caller, live()), 'unknown tool');
    await log.close();
    const calls = await auditRecords(log.dir, (r) => r.type === 'tool_call');
    expect(told.map((t) => t.written)).toEqual(calls.map((r) => ({ seq: r.seq, time: r.time })));
    expect(told.map((t) => t.record)).toEqual(calls.map((r) => toolCallOf(r)));
    expect(told.map((t) => [t.record.tool, t.record.outcome, t.record.errorCode])).toEqual([
      ['get_user_details', 'ok', undefined],
      ['get_user_details', 'denied', 'policy_denied'],
      ['send_mail', 'ok', undefined],
      ['no_such_tool', 'denied', 'policy_denied'],
    ]);
    expect(told[1]!.record.rule).toBe('not-in-key');
    expect(told[2]!.record).toMatchObject({
      approval: 'approved',
      args: { subjectChars: 6, bodyChars: BODY.length },
      graphRequestIds: [expect.any(String)],
    });
  });

  it('tells the owner of a call whose record could not be written that it failed, with no place in the log', async () => {
    const told: Array<{ record: ToolCallRecord; written: AuditStamp | undefined }> = [];
    const runner = runnerWith(
      auditWriter({ fail: 'tool_call' }).write,
      undefined,
      (record, written) => told.push({ record, written }),
    );
    await within(runner.call(getUserDetails, {}, await callerFor('untold'), live()), 'answer');
    expect(told).toEqual([
      {
        record: expect.objectContaining({ outcome: 'failed', errorCode: 'audit_failed' }),
        written: undefined,
      },
    ]);
  });
});

describe('a record of the intent before a tool changes data', () => {
  it('writes send_mail’s intent, with its audited arguments and approval, before Graph is called', async () => {
    const audit = auditWriter({ hold: 'tool_intent' });
    const runner = runnerWith(audit.write);
    const before = sent().length;
    const result = runner.call(sendMail, mail, await callerFor('intending'), live());
    const intent = await within(audit.held, 'tool_intent record of send_mail');
    expect(intent).toEqual({
      type: 'tool_intent',
      actor: expect.objectContaining({ keyName: 'intending', account: adele.username }),
      outcome: 'pending',
      details: {
        tool: 'send_mail',
        args: {
          to: ['alex@contoso.test'],
          cc: [],
          bcc: 0,
          subjectChars: 6,
          bodyChars: BODY.length,
        },
        approval: 'approved',
      },
    });
    expect(JSON.stringify(intent)).not.toContain('Zebra-7719');
    for (let i = 0; i < 20; i++) await tick();
    expect(sent().length).toBe(before);
    audit.release();
    expect((await within(result, 'result of send_mail')).isError).toBeFalsy();
    expect(sent().length).toBe(before + 1);
    expect(audit.written.map((e) => [e.type, e.outcome])).toEqual([
      ['tool_intent', 'pending'],
      ['tool_call', 'allowed'],
    ]);
  });

  it('never calls Graph when the intent cannot be written, and says why', async () => {
    const audit = auditWriter({ fail: 'tool_intent' });
    const runner = runnerWith(audit.write);
    const before = sent().length;
    const caller = await callerFor('no-intent');
    const result = await within(runner.call(sendMail, mail, caller, live()), 'answer');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      `send_mail was not run, because what it was about to do could not be audited first. ${GENERIC}`,
    );
    expect(sent().length).toBe(before);
    expect(audit.written).toMatchObject([
      {
        type: 'tool_call',
        outcome: 'failed',
        details: { tool: 'send_mail', error: 'audit_failed' },
      },
    ]);
  });

  it('writes no intent for a tool that only reads', async () => {
    const audit = auditWriter();
    const caller = await callerFor('reading');
    await within(runnerWith(audit.write).call(getUserDetails, {}, caller, live()), 'answer');
    expect(audit.written.map((e) => e.type)).toEqual(['tool_call']);
  });
});

/** A client of an in-memory MCP server whose requests carry `closed`, as the endpoint attaches it. */
function connectWith(runner: ToolRunner, key: ValetKey, closed: AbortSignal) {
  return connectAs(createMcpServer(ALL_TOOLS, runner), { key }, { closed, name: 'hangs-up' });
}

describe('a caller that hangs up', () => {
  it('cancels its pending approval, and the mail is never sent', async () => {
    const approvals = new ApprovalService();
    const audit = auditWriter();
    const runner = runnerWith(audit.write, approvals);
    const { key } = await fx.valet.createKey({ name: 'hangs-up' });
    const hangUp = new AbortController();
    const client = await connectWith(runner, key, hangUp.signal);
    const before = sent().length;
    const asked = new Promise<PendingApproval>((r) => approvals.once('approval-requested', r));
    const decided = new Promise<ApprovalOutcome>((r) =>
      approvals.once('approval-decided', (d) => r(d.outcome)),
    );
    const call = client.callTool({ name: 'send_mail', arguments: mail });
    const pending = await within(asked, 'approval prompt for send_mail');
    hangUp.abort();
    expect(await within(decided, 'end of the approval after the caller hung up')).toBe('cancelled');
    expect(approvals.list()).toEqual([]);
    expect(() => approvals.decide(pending.id, { kind: 'once' })).toThrow(/No pending approval/);
    const result = (await within(call, 'answer to the cancelled call')) as CallToolResult;
    expect(textOf(result)).toBe('The call to send_mail was cancelled while it waited for approval');
    expect(sent().length).toBe(before);
    expect(audit.written.map((e) => [e.type, e.outcome, e.details?.error])).toEqual([
      ['tool_call', 'denied', 'approval_cancelled'],
    ]);
    await client.close();
  });

  it('never runs a tool for a caller that is already gone', async () => {
    const approvals = new ApprovalService();
    const prompts: string[] = [];
    approvals.on('approval-requested', (a) => prompts.push(a.id));
    const audit = auditWriter();
    const runner = runnerWith(audit.write, approvals);
    const { key } = await fx.valet.createKey({ name: 'gone' });
    const client = await connectWith(runner, key, AbortSignal.abort());
    const before = sent().length;
    const result = (await within(
      client.callTool({ name: 'send_mail', arguments: mail }),
      'answer to the call of a caller that is gone',
    )) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(prompts).toEqual([]);
    expect(sent().length).toBe(before);
    await client.close();
  });
});
