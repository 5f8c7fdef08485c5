import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { activityChart } from '../../../main/core/app/activity-chart.ts';
import { parseCall } from '../../../main/core/app/call-schemas.ts';
import { AuditLog, type AuditLogOptions } from '../../../main/core/audit/audit-log.ts';
import { toolCallAudit, type ToolCallRecord } from '../../../main/core/mcp/call-record.ts';
import { auditRecords } from '../../support/audit-records.ts';

let dataDir: string;
let dir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'valet-chart-'));
  dir = join(dataDir, 'audit');
  // Only the clock the audit log stamps its records with; its timers stay real.
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterEach(() => vi.useRealTimers());

const NOW = Date.parse('2026-11-29T12:00:30Z');
const at = (time: string) => Date.parse(`2026-11-29T${time}Z`);

/** A call that ended with `outcome` after `durationMs`. */
function call(outcome: ToolCallRecord['outcome'], durationMs: number): ToolCallRecord {
  return {
    tool: 'list_messages',
    keyId: 'k1',
    keyName: 'vscode',
    account: 'adele@contoso.test',
    client: 'VS Code 1.99',
    outcome,
    ...(outcome === 'denied' ? { errorCode: 'policy_denied', rule: 'not-in-key' } : {}),
    ...(outcome === 'failed' ? { errorCode: 'graph_error' } : {}),
    durationMs,
    graphRequestIds: [],
  };
}

type Written = [time: number, outcome: ToolCallRecord['outcome'], durationMs: number];

/** Writes the calls through the real audit log, each stamped at its own time. */
async function write(calls: Written[], options: AuditLogOptions = {}): Promise<void> {
  const log = new AuditLog(dataDir, options);
  await log.holdExclusive();
  for (const [time, outcome, durationMs] of calls) {
    vi.setSystemTime(time);
    await log.append(toolCallAudit(call(outcome, durationMs)));
    // Records of other kinds between the calls are not calls.
    await log.append({ type: 'client_connected', outcome: 'ok' });
  }
  await log.close();
}

describe('the activity chart', () => {
  it('counts the calls of each slice by outcome, with their p50 and p95 duration by nearest rank', async () => {
    await write([
      [at('11:05:00'), 'ok', 999],
      [at('11:10:00'), 'ok', 10],
      [at('11:15:00'), 'ok', 20],
      [at('11:19:59.999'), 'denied', 1],
      ...Array.from({ length: 20 }, (_, i): Written => [at('11:35:00') + i, 'ok', 20 - i]),
      ...Array.from({ length: 11 }, (_, i): Written => [at('11:50:00') + i, 'ok', i + 1]),
      [at('12:00:00'), 'failed', 500],
      [at('12:00:30'), 'ok', 100],
    ]);

    const chart = await activityChart(dir, { minutes: 60, buckets: 6 }, NOW);

    expect(chart.from).toBe('2026-11-29T11:10:00.000Z');
    expect(chart.to).toBe('2026-11-29T12:10:00.000Z');
    expect(chart.bucketMs).toBe(10 * 60_000);
    expect(chart.buckets).toEqual([
      {
        start: '2026-11-29T11:10:00.000Z',
        calls: { allowed: 2, denied: 1, failed: 0 },
        p50Ms: 10,
        p95Ms: 20,
      },
      {
        start: '2026-11-29T11:20:00.000Z',
        calls: { allowed: 0, denied: 0, failed: 0 },
        p50Ms: null,
        p95Ms: null,
      },
      {
        start: '2026-11-29T11:30:00.000Z',
        calls: { allowed: 20, denied: 0, failed: 0 },
        p50Ms: 10,
        p95Ms: 19,
      },
      {
        start: '2026-11-29T11:40:00.000Z',
        calls: { allowed: 0, denied: 0, failed: 0 },
        p50Ms: null,
        p95Ms: null,
      },
      {
        start: '2026-11-29T11:50:00.000Z',
        calls: { allowed: 11, denied: 0, failed: 0 },
        p50Ms: 6,
        p95Ms: 11,
      },
      {
        start: '2026-11-29T12:00:00.000Z',
        calls: { allowed: 1, denied: 0, failed: 1 },
        p50Ms: 100,
        p95Ms: 500,
      },
    ]);
    // The call at 11:05 is before the first slice: not counted, its 999 ms in no percentile.
    expect(chart.totals).toEqual({ allowed: 34, denied: 1, failed: 1 });
    expect(chart.p50Ms).toBe(9);
    expect(chart.p95Ms).toBe(100);
  });

  it('keeps its slices in place between two fetches a moment apart', async () => {
    await write([[at('11:59:00'), 'ok', 5]]);
    const first = await activityChart(dir, { minutes: 60, buckets: 30 }, at('12:00:01'));
    const later = await activityChart(dir, { minutes: 60, buckets: 30 }, at('12:01:59'));
    expect(later).toEqual(first);
    expect(first.buckets.at(-2)).toMatchObject({
      start: '2026-11-29T11:58:00.000Z',
      calls: { allowed: 1 },
    });
  });

  it('stops reading at the first record older than its window: records before it are never counted', async () => {
    await write([
      // Stamped inside the window, but written before the record at 09:00: reading on from
      // there would count them.
      ...Array.from({ length: 10 }, (): Written => [at('11:50:00'), 'failed', 1]),
      [at('09:00:00'), 'ok', 1],
      [at('11:55:00'), 'ok', 7],
      [at('11:56:00'), 'denied', 0],
    ]);
    const chart = await activityChart(dir, { minutes: 60 }, NOW);
    expect(chart.totals).toEqual({ allowed: 1, denied: 1, failed: 0 });
    expect(chart.p95Ms).toBe(7);
  });

  it('never opens the files older than its window: one that cannot be read does not fail it', async () => {
    await write(
      Array.from({ length: 40 }, (_, i): Written => [at('08:00:00') + i * 1000, 'ok', 3]),
      { maxFileBytes: 2048 },
    );
    await write([[at('11:58:00'), 'ok', 42]], { maxFileBytes: 2048 });
    // The oldest file becomes something no read gets through.
    const oldest = (await readdir(dir)).filter((n) => n !== 'audit.jsonl').sort()[0]!;
    expect(oldest).toBe('audit-000001.jsonl');
    await rm(join(dir, oldest));
    await mkdir(join(dir, oldest));
    await expect(auditRecords(dir)).rejects.toThrow();

    const chart = await activityChart(dir, { minutes: 60 }, NOW);
    expect(chart.totals).toEqual({ allowed: 1, denied: 0, failed: 0 });
    expect(chart.p50Ms).toBe(42);
  });

  it('takes 5 minutes to a week in 6 to 120 slices, and says which bound a request broke', () => {
    expect(parseCall('getActivityChart', {})).toEqual({ ok: true, request: {} });
    expect(parseCall('getActivityChart', { minutes: 10_080, buckets: 120 }).ok).toBe(true);
    expect(parseCall('getActivityChart', { minutes: 4 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_request', fields: ['minutes'] },
    });
    expect(parseCall('getActivityChart', { minutes: 10_081 })).toMatchObject({
      ok: false,
      error: { message: 'getActivityChart: minutes: is more than a week (10080 minutes)' },
    });
    expect(parseCall('getActivityChart', { buckets: 121 })).toMatchObject({
      ok: false,
      error: { fields: ['buckets'] },
    });
  });
});
