import type { ActivityDto, ActivityPageDto } from '../../../preload/contract.ts';
import { readAuditNewestFirst } from '../audit/audit-newest-first.ts';
import type { AuditRecord, AuditStamp } from '../audit/audit-types.ts';
import { toolCallOf, type ToolCallRecord } from '../mcp/call-record.ts';

/** A page of the activity view: its filters and where it starts (as `listActivity` takes them). */
export interface ActivityQuery {
  /** Only calls numbered below this: the `nextBefore` of the page before. */
  before?: number;
  limit?: number;
  keyName?: string;
  tool?: string;
  outcome?: string;
}

/** How many calls a page holds when the query does not say. */
const DEFAULT_LIMIT = 50;

/** A tool call as a line of the activity view, with where the audit log put its record. */
export function activityOf(call: ToolCallRecord, written: AuditStamp): ActivityDto {
  return {
    seq: written.seq,
    time: written.time,
    type: 'tool_call',
    outcome: call.outcome === 'ok' ? 'allowed' : call.outcome,
    tool: call.tool,
    keyName: call.keyName,
    client: call.client ?? null,
    account: call.account ?? null,
    durationMs: call.durationMs,
    graphRequestIds: [...call.graphRequestIds],
    reason: call.rule ?? call.errorCode ?? null,
  };
}

/** A `tool_call` audit record as a line of the activity view; undefined for other records. */
export function activityOfRecord(record: AuditRecord): ActivityDto | undefined {
  const call = toolCallOf(record);
  return call && activityOf(call, record);
}

function matches(item: ActivityDto, query: ActivityQuery): boolean {
  return (
    (!query.keyName || item.keyName === query.keyName) &&
    (!query.tool || item.tool === query.tool) &&
    (!query.outcome || item.outcome === query.outcome)
  );
}

/**
 * One page of the activity view, newest first: the tool calls in the audit log at `dir` that
 * pass the filters, numbered below `before`. It reads back from the end of the log only as
 * far as the page (and one more call, to know whether there is an older page) needs. Pass
 * `nextBefore` back as `before` for the next page: numbers never change, so the cursor holds
 * while the log grows and rotates.
 */
export async function activityPage(dir: string, query: ActivityQuery): Promise<ActivityPageDto> {
  const limit = Math.max(1, query.limit ?? DEFAULT_LIMIT);
  const items: ActivityDto[] = [];
  let more = false;
  const records = readAuditNewestFirst(dir, {
    type: 'tool_call',
    ...(query.before === undefined ? {} : { before: query.before }),
  });
  for await (const record of records) {
    const item = activityOfRecord(record);
    if (!item || !matches(item, query)) continue;
    if (items.length === limit) {
      more = true;
      break;
    }
    items.push(item);
  }
  return { items, nextBefore: more ? items[items.length - 1]!.seq : null };
}
