import type {
  ActivityBucketDto,
  ActivityChartDto,
  OutcomeCountsDto,
} from '../../../preload/contract.ts';
import { readAuditNewestFirst } from '../audit/audit-newest-first.ts';
import { activityOfRecord } from './activity.ts';

/** What the chart covers when the request does not say: the last hour, in 2-minute slices. */
export const DEFAULT_CHART = { minutes: 60, buckets: 30 } as const;

/** The slices of a chart: `count` of them, `bucketMs` long each, the first starting at `from`. */
export interface ChartFrame {
  from: number;
  bucketMs: number;
  count: number;
}

/** A tool call as the chart counts it. */
export interface ChartPoint {
  /** When the audit log wrote the call's record (ms since the epoch). */
  at: number;
  outcome: string;
  durationMs: number | null;
}

/**
 * The slices of the last `minutes` before `now`, in `buckets` slices. A slice is a whole
 * number of seconds long and starts on a multiple of its length, so a chart fetched again a
 * moment later shows the same slices with the same calls in them, not bars that shift.
 */
export function chartFrame(now: number, minutes: number, buckets: number): ChartFrame {
  const bucketMs = Math.max(1000, Math.round((minutes * 60_000) / buckets / 1000) * 1000);
  const lastStart = Math.floor(now / bucketMs) * bucketMs;
  return { from: lastStart - (buckets - 1) * bucketMs, bucketMs, count: buckets };
}

/** The `p`th percentile of ascending `sorted` by nearest rank; null when there is nothing. */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

const noCalls = (): OutcomeCountsDto => ({ allowed: 0, denied: 0, failed: 0 });

/** Counts a call under its outcome; an outcome the chart does not know counts as failed. */
function count(counts: OutcomeCountsDto, outcome: string): void {
  if (outcome === 'allowed' || outcome === 'denied') counts[outcome]++;
  else counts.failed++;
}

const ascending = (a: number, b: number) => a - b;

/** The chart of `points` in `frame`: calls outside the frame are left out. */
export function chartOf(frame: ChartFrame, points: Iterable<ChartPoint>): ActivityChartDto {
  const end = frame.from + frame.count * frame.bucketMs;
  const slices = Array.from({ length: frame.count }, () => ({
    calls: noCalls(),
    durations: [] as number[],
  }));
  const totals = noCalls();
  const durations: number[] = [];
  for (const point of points) {
    if (!(point.at >= frame.from && point.at < end)) continue;
    const slice = slices[Math.floor((point.at - frame.from) / frame.bucketMs)]!;
    count(slice.calls, point.outcome);
    count(totals, point.outcome);
    if (point.durationMs !== null && Number.isFinite(point.durationMs)) {
      slice.durations.push(point.durationMs);
      durations.push(point.durationMs);
    }
  }
  const buckets = slices.map((slice, i): ActivityBucketDto => {
    const sorted = slice.durations.sort(ascending);
    return {
      start: new Date(frame.from + i * frame.bucketMs).toISOString(),
      calls: slice.calls,
      p50Ms: nearestRank(sorted, 50),
      p95Ms: nearestRank(sorted, 95),
    };
  });
  durations.sort(ascending);
  return {
    from: new Date(frame.from).toISOString(),
    to: new Date(end).toISOString(),
    bucketMs: frame.bucketMs,
    buckets,
    totals,
    p50Ms: nearestRank(durations, 50),
    p95Ms: nearestRank(durations, 95),
  };
}

/** What `activityChart` is asked for (as `getActivityChart` takes it). */
export interface ChartQuery {
  minutes?: number;
  buckets?: number;
}

/** The slices a chart query asks for (the last hour in 30 slices unless it says), ending at `now`. */
export function chartFrameOf(query: ChartQuery, now: number): ChartFrame {
  return chartFrame(
    now,
    query.minutes ?? DEFAULT_CHART.minutes,
    query.buckets ?? DEFAULT_CHART.buckets,
  );
}

/**
 * The Activity view's chart: the tool calls in the audit log at `dir` over the last
 * `minutes` before `now`, by outcome and duration. It reads the log newest first and stops
 * at the first record older than the chart's first slice, so what it costs follows the
 * calls in the window, not the size of the log. Every kind of record marks the time, so a
 * log of other records before the window is not read through either.
 */
export async function activityChart(
  dir: string,
  query: ChartQuery,
  now = Date.now(),
): Promise<ActivityChartDto> {
  const frame = chartFrameOf(query, now);
  const points: ChartPoint[] = [];
  for await (const record of readAuditNewestFirst(dir)) {
    const at = Date.parse(record.time);
    if (at < frame.from) break;
    const item = activityOfRecord(record);
    if (item && !Number.isNaN(at))
      points.push({ at, outcome: item.outcome, durationMs: item.durationMs });
  }
  return chartOf(frame, points);
}
