import { ValetError } from '../../util/valet-error.ts';
import type { SharedStore } from '../store/shared-store.ts';
import { ACTIVITY_STREAM, activityItem, type SharedActivityItem } from './activity-entry.ts';

export type { SharedActivityItem } from './activity-entry.ts';

/** Whose activity a reader may see: one user's, by Entra object ID, or every user's (an admin's view). */
export type ActivityViewer = { oid: string } | { everyone: true };

/** A page of the live activity across instances: its size, where it starts, and a filter. */
export interface SharedActivityQuery {
  /** How many items at most (1–500; default 50). */
  limit?: number;
  /** Only entries older than this: the `nextBefore` of the page before. */
  before?: string;
  /** Only records of this type, such as `tool_call`. */
  type?: string;
}

/** Items newest first; pass `nextBefore` back as `before` for older ones (null: there are none). */
export interface SharedActivityPage {
  items: SharedActivityItem[];
  nextBefore: string | null;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
/** How many entries one page reads at most, so a quiet user among busy ones costs little. */
const MAX_SCANNED = 5_000;
const READ_AT_ONCE = 500;

/**
 * One page of the activity every instance published to the shared stream, newest first: the
 * viewer's own records, or everyone's for an admin. Newest means last to reach the stream: each
 * instance's records keep their order, but those of two instances written within a few
 * milliseconds of each other may come in either order (each item has its `time`). The stream keeps about the last 100,000
 * records of all instances; each instance's audit chain holds them all. A page reads at most
 * MAX_SCANNED entries: when it stops there, `nextBefore` goes on from the last entry it read.
 */
export async function readSharedActivity(
  store: SharedStore,
  viewer: ActivityViewer,
  query: SharedActivityQuery = {},
): Promise<SharedActivityPage> {
  const oid = viewerOid(viewer);
  const limit = checkLimit(query.limit);
  const keep = (item: SharedActivityItem) =>
    (oid === undefined || item.oid === oid) && (!query.type || item.type === query.type);
  const items: SharedActivityItem[] = [];
  let cursor = query.before;
  let scanned = 0;
  for (;;) {
    const count = Math.min(READ_AT_ONCE, Math.max(limit + 1, 100), MAX_SCANNED - scanned);
    const entries = await store.streamNewest(ACTIVITY_STREAM, {
      count,
      ...(cursor === undefined ? {} : { before: cursor }),
    });
    for (const entry of entries) {
      const item = activityItem(entry);
      if (keep(item)) {
        if (items.length === limit) return { items, nextBefore: items.at(-1)!.id };
        items.push(item);
      }
      cursor = entry.id;
    }
    scanned += entries.length;
    if (entries.length < count) return { items, nextBefore: null };
    if (scanned >= MAX_SCANNED) return { items, nextBefore: cursor ?? null };
  }
}

function viewerOid(viewer: ActivityViewer): string | undefined {
  if ('everyone' in viewer && viewer.everyone === true) return undefined;
  const { oid } = viewer as { oid?: unknown };
  // Fails closed: a viewer that names nobody must never read as everyone.
  if (typeof oid !== 'string' || oid === '')
    throw new ValetError(
      'activity-bad-query',
      "The activity viewer must be a user's object ID, or everyone for an admin.",
    );
  return oid;
}

function checkLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new ValetError(
      'activity-bad-query',
      `An activity page's limit must be a whole number from 1 to ${MAX_LIMIT}.`,
    );
  return limit;
}
