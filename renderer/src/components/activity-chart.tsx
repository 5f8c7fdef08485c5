import type {
  ActivityBucketDto,
  ActivityChartDto,
  OutcomeCountsDto,
} from '../../../preload/contract.ts';
import { formatClock, formatDuration, formatSpan } from '../format.ts';

// A chart drawn as plain SVG: geometry in attributes, colours and lines in styles.css by
// class name. The window's CSP (style-src 'self') refuses inline style attributes, so
// nothing here sets one.

const WIDTH = 720;
const LEFT = 44;
const RIGHT = 8;
const CALLS_TOP = 8;
const CALLS_HEIGHT = 112;
const LATENCY_TOP = 144;
const LATENCY_HEIGHT = 56;
const AXIS_Y = 222;
const HEIGHT = 232;
const PLOT = WIDTH - LEFT - RIGHT;

/** Outcomes bottom to top in a bar: the calls that went through first. */
const OUTCOMES = ['allowed', 'failed', 'denied'] as const;

const total = (c: OutcomeCountsDto) => c.allowed + c.denied + c.failed;

/** A scale's top: the largest value rounded up to 1, 2 or 5 times a power of ten. */
function niceTop(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 5, 10].find((s) => s * power >= max)!;
  return step * power;
}

/** What a slice held, in words: for its tooltip and the table a screen reader reads. */
function describeBucket(b: ActivityBucketDto, withDate: boolean): string {
  const latency =
    b.p50Ms === null ? '' : `; p50 ${formatDuration(b.p50Ms)}, p95 ${formatDuration(b.p95Ms)}`;
  return `${formatClock(b.start, withDate)}: ${b.calls.allowed} allowed, ${b.calls.denied} denied, ${b.calls.failed} failed${latency}`;
}

/** A line through the slices that have a value; a slice with none breaks it. */
function linePath(
  values: Array<number | null>,
  x: (i: number) => number,
  y: (v: number) => number,
) {
  let path = '';
  let drawing = false;
  values.forEach((v, i) => {
    if (v === null) {
      drawing = false;
      return;
    }
    path += `${drawing ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    drawing = true;
  });
  return path;
}

/**
 * Tool calls over time as stacked bars by outcome, with the p50 and p95 latency of each
 * slice below. A figure with a caption, a summary in words and the slices as a table for
 * screen readers; the drawing itself is hidden from them.
 */
export function ActivityChart({ chart, caption }: { chart: ActivityChartDto; caption: string }) {
  const { buckets, totals } = chart;
  const withDate = chart.bucketMs * buckets.length > 86_400_000;
  const slot = PLOT / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot * 0.75);
  const x = (i: number) => LEFT + i * slot;
  const callsTop = niceTop(Math.max(0, ...buckets.map((b) => total(b.calls))));
  const latencyTop = niceTop(Math.max(0, ...buckets.map((b) => b.p95Ms ?? 0)));
  const callsY = (n: number) => (n / callsTop) * CALLS_HEIGHT;
  const latencyY = (ms: number) =>
    LATENCY_TOP + LATENCY_HEIGHT - (ms / latencyTop) * LATENCY_HEIGHT;
  const middle = (i: number) => x(i) + barWidth / 2;
  const calls = total(totals);
  const ticks = [0, Math.floor((buckets.length - 1) / 2), buckets.length - 1];
  return (
    <figure className="chart" aria-labelledby="activity-chart-caption">
      <figcaption id="activity-chart-caption">{caption}</figcaption>
      <p className="chart-summary">
        {calls === 0
          ? 'No tool calls in this period.'
          : `${calls} ${calls === 1 ? 'call' : 'calls'}: ${totals.allowed} allowed, ${totals.denied} denied, ${totals.failed} failed. Latency p50 ${formatDuration(chart.p50Ms)}, p95 ${formatDuration(chart.p95Ms)}.`}
      </p>
      <svg
        className="chart-drawing"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        aria-hidden="true"
        focusable="false"
      >
        <text className="chart-label" x={LEFT - 6} y={CALLS_TOP + 10} textAnchor="end">
          {callsTop}
        </text>
        <text className="chart-label" x={LEFT - 6} y={CALLS_TOP + CALLS_HEIGHT} textAnchor="end">
          0
        </text>
        <text className="chart-label" x={LEFT} y={LATENCY_TOP - 6}>
          latency (p50, p95)
        </text>
        <text className="chart-label" x={LEFT - 6} y={LATENCY_TOP + 10} textAnchor="end">
          {formatDuration(latencyTop)}
        </text>
        <line
          className="chart-axis"
          x1={LEFT}
          x2={WIDTH - RIGHT}
          y1={CALLS_TOP + CALLS_HEIGHT}
          y2={CALLS_TOP + CALLS_HEIGHT}
        />
        <line
          className="chart-axis"
          x1={LEFT}
          x2={WIDTH - RIGHT}
          y1={LATENCY_TOP + LATENCY_HEIGHT}
          y2={LATENCY_TOP + LATENCY_HEIGHT}
        />
        {buckets.map((b, i) => {
          let base = CALLS_TOP + CALLS_HEIGHT;
          return (
            <g key={b.start} className="chart-bucket" data-start={b.start}>
              <title>{describeBucket(b, withDate)}</title>
              {/* The whole slot, so that the tooltip shows over an empty slice too. */}
              <rect
                className="chart-slot"
                x={x(i)}
                y={CALLS_TOP}
                width={slot}
                height={CALLS_HEIGHT}
              />
              {OUTCOMES.map((outcome) => {
                const height = callsY(b.calls[outcome]);
                if (height <= 0) return null;
                base -= height;
                return (
                  <rect
                    key={outcome}
                    className={`bar bar-${outcome}`}
                    data-outcome={outcome}
                    data-calls={b.calls[outcome]}
                    x={x(i)}
                    y={base}
                    width={barWidth}
                    height={height}
                  />
                );
              })}
            </g>
          );
        })}
        <path
          className="chart-line chart-p95"
          d={linePath(
            buckets.map((b) => b.p95Ms),
            middle,
            latencyY,
          )}
        />
        <path
          className="chart-line chart-p50"
          d={linePath(
            buckets.map((b) => b.p50Ms),
            middle,
            latencyY,
          )}
        />
        {buckets.map((b, i) =>
          b.p95Ms === null ? null : (
            <circle
              key={b.start}
              className="chart-dot chart-p95"
              cx={middle(i)}
              cy={latencyY(b.p95Ms)}
              r={2}
            />
          ),
        )}
        {[...new Set(ticks)].map((i) => (
          <text
            key={i}
            className="chart-label"
            x={i === 0 ? x(i) : i === buckets.length - 1 ? x(i) + barWidth : middle(i)}
            y={AXIS_Y}
            textAnchor={i === 0 ? 'start' : i === buckets.length - 1 ? 'end' : 'middle'}
          >
            {buckets[i] ? formatClock(buckets[i].start, withDate) : ''}
          </text>
        ))}
      </svg>
      <ul className="chart-legend" aria-hidden="true">
        {OUTCOMES.map((outcome) => (
          <li key={outcome}>
            <span className={`swatch swatch-${outcome}`} /> {outcome}
          </li>
        ))}
        <li>
          <span className="swatch swatch-p95" /> p95 latency
        </li>
        <li>
          <span className="swatch swatch-p50" /> p50 latency
        </li>
      </ul>
      <table className="visually-hidden">
        <caption>Calls per {formatSpan(chart.bucketMs)}, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">From</th>
            <th scope="col">Allowed</th>
            <th scope="col">Denied</th>
            <th scope="col">Failed</th>
            <th scope="col">p50</th>
            <th scope="col">p95</th>
          </tr>
        </thead>
        <tbody>
          {buckets.map((b) => (
            <tr key={b.start}>
              <th scope="row">{formatClock(b.start, withDate)}</th>
              <td>{b.calls.allowed}</td>
              <td>{b.calls.denied}</td>
              <td>{b.calls.failed}</td>
              <td>{formatDuration(b.p50Ms)}</td>
              <td>{formatDuration(b.p95Ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
