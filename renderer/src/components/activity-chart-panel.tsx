import { useCallback, useEffect, useRef, useState } from 'react';
import type { ActivityChartDto } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { useAction } from '../hooks/use-action.ts';
import { useAppEvents } from '../hooks/use-app-events.ts';
import { ActivityChart } from './activity-chart.tsx';
import { ErrorText } from './error-text.tsx';

/** The periods the chart offers: how far back, in how many slices. */
const PERIODS = [
  { label: 'Last hour', minutes: 60, buckets: 30 },
  { label: 'Last 24 hours', minutes: 1440, buckets: 48 },
  { label: 'Last 7 days', minutes: 10_080, buckets: 84 },
] as const;

/** At most one fetch of the chart per this long, however many calls come in. */
export const CHART_REFRESH_MS = 1000;

/**
 * The Activity view's chart with its period, fetched again as calls come in: a burst of
 * calls makes one fetch a second at most, not one per call.
 */
export function ActivityChartPanel() {
  const api = useApi();
  const [period, setPeriod] = useState(0);
  const [chart, setChart] = useState<ActivityChartDto | null>(null);
  const load = useAction();
  const { minutes, buckets, label } = PERIODS[period]!;
  // Only the answer to the newest request counts when the period changes quickly.
  const generation = useRef(0);
  const fetchChart = useCallback(() => {
    const mine = ++generation.current;
    void load.run(async () => {
      const next = await api.getActivityChart({ minutes, buckets });
      if (mine === generation.current) setChart(next);
    });
  }, [api, minutes, buckets, load.run]);
  useEffect(fetchChart, [fetchChart]);

  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const latest = useRef(fetchChart);
  useEffect(() => {
    latest.current = fetchChart;
  });
  useAppEvents((event) => {
    if (event.type !== 'activity' || timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current();
    }, CHART_REFRESH_MS);
  });

  return (
    <section aria-labelledby="activity-chart-heading" className="chart-panel">
      <div className="chart-heading">
        <h2 id="activity-chart-heading">Calls over time</h2>
        <label>
          Period{' '}
          <select value={period} onChange={(e) => setPeriod(Number(e.target.value))}>
            {PERIODS.map((p, i) => (
              <option key={p.label} value={i}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorText error={load.error} />
      {chart && (
        <ActivityChart
          chart={chart}
          caption={`Tool calls by outcome, ${label.toLowerCase()}, with p50 and p95 latency`}
        />
      )}
    </section>
  );
}
