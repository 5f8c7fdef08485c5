import type {
  ActivityChartDto,
  ActivityDto,
  ActivityPageDto,
} from '../../../../preload/contract.ts';
import { activityOfRecord, activityPage, type ActivityQuery } from '../../app/activity.ts';
import {
  activityChart,
  chartFrameOf,
  chartOf,
  type ChartPoint,
  type ChartQuery,
} from '../../app/activity-chart.ts';
import { readAuditNewestFirst } from '../../audit/audit-newest-first.ts';
import type { AuditRecord } from '../../audit/audit-types.ts';
import {
  readSharedActivity,
  type ActivityViewer,
  type SharedActivityItem,
} from '../audit/shared-activity.ts';
import type { SharedStore } from '../store/shared-store.ts';

/** Whose tool calls a query covers: one user's, or (undefined) every user's, for an admin. */
export interface ActivityOwner {
  /** The user's Entra object ID, which every remote call's record names. */
  oid: string;
  /** The user's valet keys, for records written before records named the user. */
  keyIds: ReadonlySet<string>;
}

/** How many calls a page of one user's activity reads at most, so a quiet user costs little. */
const MAX_SCANNED = 5_000;

const DEFAULT_LIMIT = 50;

function owns(record: AuditRecord, owner: ActivityOwner): boolean {
  const oid = record.actor?.oid;
  return oid !== undefined ? oid === owner.oid : owner.keyIds.has(record.actor?.keyId ?? '');
}

function matches(item: ActivityDto, query: ActivityQuery): boolean {
  return (
    (!query.keyName || item.keyName === query.keyName) &&
    (!query.tool || item.tool === query.tool) &&
    (!query.outcome || item.outcome === query.outcome)
  );
}

/**
 * One page of the Activity view from this instance's audit log at `dir`: every user's calls,
 * or `owner`'s only. A user's page reads at most MAX_SCANNED calls; when it stops there, its
 * `nextBefore` goes on from the last call it read, so "Load older" reaches further back.
 */
export async function teamActivityPage(
  dir: string,
  query: ActivityQuery,
  owner: ActivityOwner | undefined,
): Promise<ActivityPageDto> {
  if (!owner) return activityPage(dir, query);
  const limit = Math.max(1, query.limit ?? DEFAULT_LIMIT);
  const items: ActivityDto[] = [];
  let scanned = 0;
  let lastRead: number | null = null;
  const records = readAuditNewestFirst(dir, {
    type: 'tool_call',
    ...(query.before === undefined ? {} : { before: query.before }),
  });
  for await (const record of records) {
    if (scanned++ === MAX_SCANNED) return { items, nextBefore: lastRead };
    const item = owns(record, owner) ? activityOfRecord(record) : undefined;
    if (item && matches(item, query)) {
      if (items.length === limit) return { items, nextBefore: items[items.length - 1]!.seq };
      items.push(item);
    }
    lastRead = record.seq;
  }
  return { items, nextBefore: null };
}

/** The Activity view's chart of this instance's calls: every user's, or `owner`'s only. */
export async function teamActivityChart(
  dir: string,
  query: ChartQuery,
  owner: ActivityOwner | undefined,
  now = Date.now(),
): Promise<ActivityChartDto> {
  if (!owner) return activityChart(dir, query, now);
  const frame = chartFrameOf(query, now);
  const points: ChartPoint[] = [];
  for await (const record of readAuditNewestFirst(dir)) {
    const at = Date.parse(record.time);
    if (at < frame.from) break;
    const item = owns(record, owner) ? activityOfRecord(record) : undefined;
    if (item && !Number.isNaN(at))
      points.push({ at, outcome: item.outcome, durationMs: item.durationMs });
  }
  return chartOf(frame, points);
}

/**
 * A stream entry's ID (`<ms>-<n>`) as the page's numeric cursor: milliseconds × 1000 plus the
 * entry's number in its millisecond, which stays exact for the stream's real IDs.
 */
export function cursorOfEntry(id: string): number {
  const [ms = '0', n = '0'] = id.split('-');
  return Number(ms) * 1000 + Math.min(Number(n), 999);
}

function entryOfCursor(cursor: number): string {
  return `${Math.floor(cursor / 1000)}-${cursor % 1000}`;
}

function dtoOfItem(item: SharedActivityItem): ActivityDto {
  return {
    seq: cursorOfEntry(item.id),
    time: item.time,
    type: item.type,
    outcome: item.outcome,
    tool: item.tool,
    keyName: item.keyName,
    client: item.client,
    account: item.account,
    durationMs: item.durationMs,
    graphRequestIds: [],
    reason: item.reason,
  };
}

/** How many pages of the stream a filtered page reads at most. */
const MAX_STREAM_PAGES = 10;

/**
 * One page of the Activity view from the live feed every instance publishes to (the shared
 * store's capped stream): the calls on every instance, newest first, the user's own or, for an
 * admin, everyone's. The feed names no arguments; each instance's own audit chain stays the
 * record.
 */
export async function sharedActivityPage(
  store: SharedStore,
  query: ActivityQuery,
  viewer: ActivityViewer,
): Promise<ActivityPageDto> {
  const limit = Math.max(1, Math.min(500, query.limit ?? DEFAULT_LIMIT));
  const items: ActivityDto[] = [];
  let before = query.before === undefined ? undefined : entryOfCursor(query.before);
  for (let page = 0; page < MAX_STREAM_PAGES; page++) {
    const read = await readSharedActivity(store, viewer, {
      limit,
      type: 'tool_call',
      ...(before === undefined ? {} : { before }),
    });
    for (const item of read.items) {
      const dto = dtoOfItem(item);
      if (!matches(dto, query)) continue;
      if (items.length === limit) return { items, nextBefore: items[items.length - 1]!.seq };
      items.push(dto);
    }
    if (read.nextBefore === null) return { items, nextBefore: null };
    before = read.nextBefore;
  }
  return { items, nextBefore: before === undefined ? null : cursorOfEntry(before) };
}

/** The Activity view's chart from the live feed: every instance's calls, the viewer's own. */
export async function sharedActivityChart(
  store: SharedStore,
  query: ChartQuery,
  viewer: ActivityViewer,
  now = Date.now(),
): Promise<ActivityChartDto> {
  const frame = chartFrameOf(query, now);
  const points: ChartPoint[] = [];
  let before: string | undefined;
  for (;;) {
    const read = await readSharedActivity(store, viewer, {
      limit: 500,
      type: 'tool_call',
      ...(before === undefined ? {} : { before }),
    });
    for (const item of read.items) {
      const at = Date.parse(item.time);
      // The feed is newest first, give or take the few ms between instances.
      if (at < frame.from - 1000) return chartOf(frame, points);
      if (!Number.isNaN(at))
        points.push({ at, outcome: item.outcome, durationMs: item.durationMs });
    }
    if (read.nextBefore === null) return chartOf(frame, points);
    before = read.nextBefore;
  }
}
