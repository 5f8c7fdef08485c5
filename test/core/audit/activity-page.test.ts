import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDto } from '../../../preload/contract.ts';
import {
  activityOf,
  activityOfRecord,
  activityPage,
  type ActivityQuery,
} from '../../../main/core/app/activity.ts';
import { auditFiles } from '../../../main/core/audit/audit-file.ts';
import { AuditLog, type AuditLogOptions } from '../../../main/core/audit/audit-log.ts';
import { toolCallAudit, type ToolCallRecord } from '../../../main/core/mcp/call-record.ts';
import { auditRecords } from '../../support/audit-records.ts';

let dataDir: string;
let dir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'valet-activity-'));
  dir = join(dataDir, 'audit');
});

const KEYS = ['vscode', 'claude', 'cursor'];
const TOOLS = ['get_user_details', 'list_messages', 'send_mail'];

/** Call `i` of a working day: keys, tools and outcomes vary, so every filter has work to do. */
function call(i: number): ToolCallRecord {
  const outcome = (['ok', 'ok', 'denied', 'ok', 'failed'] as const)[i % 5]!;
  return {
    tool: TOOLS[i % 3]!,
    keyId: `id-${i % 3}`,
    keyName: KEYS[Math.floor(i / 3) % 3]!,
    account: 'adele@contoso.test',
    client: i % 7 ? 'VS Code 1.99' : undefined,
    outcome,
    ...(outcome === 'denied' ? { errorCode: 'policy_denied', rule: 'not-in-key' } : {}),
    ...(outcome === 'failed' ? { errorCode: 'graph_error' } : {}),
    durationMs: i / 4,
    graphRequestIds: outcome === 'ok' ? [`req-${i}`] : [],
  };
}

async function writeCalls(from: number, to: number, options: AuditLogOptions = {}) {
  const log = new AuditLog(dataDir, options);
  await log.holdExclusive();
  for (let i = from; i < to; i++) {
    await log.append(toolCallAudit(call(i)));
    // Other records between the calls are not activity.
    if (i % 4 === 0) await log.append({ type: 'client_connected', outcome: 'ok' });
  }
  await log.close();
}

/**
 * A page as the activity view has always been served: every record read from the start,
 * mapped field by field, filtered, then the newest `limit`.
 */
async function fullScanPage(query: ActivityQuery) {
  const { before, limit = 50, keyName, tool, outcome } = query;
  const matching: ActivityDto[] = [];
  for (const r of await auditRecords(dir)) {
    if (r.type !== 'tool_call' || (before !== undefined && r.seq >= before)) continue;
    const d = r.details ?? {};
    const item: ActivityDto = {
      seq: r.seq,
      time: r.time,
      type: r.type,
      outcome: r.outcome,
      tool: d.tool as string,
      keyName: r.actor?.keyName ?? null,
      client: r.actor?.client ?? null,
      account: r.actor?.account ?? null,
      durationMs: d.durationMs as number,
      graphRequestIds: d.graphRequestIds as string[],
      reason: (d.rule ?? d.error ?? null) as string | null,
    };
    if (
      (keyName && item.keyName !== keyName) ||
      (tool && item.tool !== tool) ||
      (outcome && item.outcome !== outcome)
    )
      continue;
    matching.push(item);
  }
  const items = matching.reverse().slice(0, limit);
  return { items, nextBefore: matching.length > limit ? items[items.length - 1]!.seq : null };
}

describe('a page of the activity view', () => {
  it('holds exactly what a full scan of the log gives, for every filter, limit and cursor', async () => {
    await writeCalls(0, 160, { maxFileBytes: 8192 });
    expect((await auditFiles(dir)).length).toBeGreaterThan(4);
    const queries: ActivityQuery[] = [
      {},
      { limit: 1 },
      { limit: 7 },
      { limit: 200 },
      { before: 100, limit: 10 },
      { before: 3 },
      { before: 1 },
      { keyName: 'claude', limit: 5 },
      { tool: 'send_mail', before: 120, limit: 9 },
      { outcome: 'denied' },
      { outcome: 'failed', keyName: 'cursor', tool: 'list_messages', limit: 3 },
      { keyName: 'nobody' },
    ];
    for (const query of queries)
      expect({ query, page: await activityPage(dir, query) }).toEqual({
        query,
        page: await fullScanPage(query),
      });
  });

  it('pages back with its cursor to the first call, each once, while new calls arrive and rotate the files', async () => {
    await writeCalls(0, 90, { maxFileBytes: 4096 });
    const there = (await fullScanPage({ limit: 1000, keyName: 'vscode' })).items.map((i) => i.seq);
    const seen: number[] = [];
    let page = await activityPage(dir, { limit: 8, keyName: 'vscode' });
    let arrived = 90;
    for (;;) {
      seen.push(...page.items.map((i) => i.seq));
      if (page.nextBefore === null) break;
      // Between two pages, more calls come in and the active file is rotated.
      await writeCalls(arrived, arrived + 15, { maxFileBytes: 4096 });
      arrived += 15;
      page = await activityPage(dir, { limit: 8, keyName: 'vscode', before: page.nextBefore });
    }
    expect(arrived).toBeGreaterThan(120);
    expect(seen).toEqual(there);
  });

  it('shows a call live exactly as it shows it read back from the log', async () => {
    const log = new AuditLog(dataDir);
    await log.holdExclusive();
    const live: ActivityDto[] = [];
    for (let i = 0; i < 10; i++) {
      const record = call(i);
      live.push(activityOf(record, await log.append(toolCallAudit(record))));
    }
    await log.close();
    const read = (await auditRecords(dir)).map((r) => activityOfRecord(r));
    expect(read).toEqual(live);
    expect((await activityPage(dir, {})).items).toEqual(live.reverse());
  });
});
