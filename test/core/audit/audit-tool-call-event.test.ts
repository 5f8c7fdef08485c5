import { describe, expect, it } from 'vitest';
import { activityOf, activityPage } from '../../../main/core/app/activity.ts';
import type { AuditStamp } from '../../../main/core/audit/audit-types.ts';
import { toolCallOf, type ToolCallRecord } from '../../../main/core/mcp/call-record.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { auditRecords } from '../../support/audit-records.ts';
import { connectClient, useValet } from '../../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, {});

describe('the core’s tool-call event', () => {
  it('comes once the call’s record is written, with the number and time the log gave it, and maps to the line the Activity view reads back', async () => {
    const told: Array<{ record: ToolCallRecord; written: AuditStamp | undefined }> = [];
    const listener = (record: ToolCallRecord, written?: AuditStamp) =>
      told.push({ record, written });
    fx.valet.core.on('tool-call', listener);
    const { secret } = await fx.valet.createKey({ name: 'told', tools: ['get_user_details'] });
    const { client } = await connectClient(fx.valet.endpoint.url, secret, 'Cursor');
    try {
      await client.callTool({ name: 'get_user_details', arguments: {} });
      await client.callTool({ name: 'list_messages', arguments: {} });
    } finally {
      await client.close();
      fx.valet.core.off('tool-call', listener);
    }
    const calls = await auditRecords(fx.valet.core.audit.dir, (r) => r.type === 'tool_call');
    const mine = calls.slice(-2);
    expect(told.map((t) => t.written)).toEqual(mine.map((r) => ({ seq: r.seq, time: r.time })));
    expect(told.map((t) => t.record)).toEqual(mine.map((r) => toolCallOf(r)));
    const live = told.map((t) => activityOf(t.record, t.written!)).reverse();
    expect((await activityPage(fx.valet.core.audit.dir, { keyName: 'told' })).items).toEqual(live);
    expect(live.map((i) => [i.tool, i.outcome, i.client])).toEqual([
      ['list_messages', 'denied', 'Cursor 1.0.0'],
      ['get_user_details', 'allowed', 'Cursor 1.0.0'],
    ]);
  });
});
