import { useEffect, useRef, useState } from 'react';
import type { ActivityDto, CallRequest } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { useAction } from '../hooks/use-action.ts';
import { useAppEvents } from '../hooks/use-app-events.ts';
import { formatDuration, formatTime } from '../format.ts';
import { ActivityChartPanel } from '../components/activity-chart-panel.tsx';
import { ErrorText } from '../components/error-text.tsx';
import { ActivityFilters, type Filters } from './activity-filters.tsx';

const PAGE_SIZE = 50;

/**
 * The live activity log: a chart of recent calls, then the calls newest first, filtered, paged
 * back with "Load older". `showAccount` adds whose each call was (a team server's admin sees
 * every user's).
 */
export function ActivityView({ showAccount = false }: { showAccount?: boolean }) {
  const api = useApi();
  const [filters, setFilters] = useState<Filters>({});
  const [items, setItems] = useState<ActivityDto[] | null>(null);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [latest, setLatest] = useState('');
  const load = useAction();
  const older = useAction();
  // Only the answer to the newest request counts when filters change quickly.
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    void load.run(async () => {
      const page = await api.listActivity({ ...filters, limit: PAGE_SIZE });
      if (mine !== generation.current) return;
      setItems(page.items);
      setNextBefore(page.nextBefore);
    });
  }, [api, filters, load.run]);
  useAppEvents((event) => {
    if (event.type !== 'activity' || !matches(event.item, filters)) return;
    setItems((list) =>
      list ? [event.item, ...list.filter((i) => i.seq !== event.item.seq)] : list,
    );
    setLatest(`New activity: ${event.item.tool ?? event.item.type}, ${event.item.outcome}`);
  });
  const loadOlder = () => {
    if (nextBefore === null) return;
    const mine = generation.current;
    void older.run(async () => {
      const page = await api.listActivity({ ...filters, limit: PAGE_SIZE, before: nextBefore });
      if (mine !== generation.current) return;
      setItems((list) => {
        const seen = new Set((list ?? []).map((i) => i.seq));
        return [...(list ?? []), ...page.items.filter((i) => !seen.has(i.seq))];
      });
      setNextBefore(page.nextBefore);
    });
  };
  return (
    <>
      <ActivityChartPanel />
      <ActivityFilters filters={filters} onChange={setFilters} />
      <p className="visually-hidden" role="status">
        {latest}
      </p>
      <ErrorText error={load.error} />
      {items && items.length === 0 && (
        <p>No activity{hasFilters(filters) ? ' matches these filters' : ' yet'}.</p>
      )}
      {items && items.length > 0 && (
        <table>
          <caption>Activity, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Client</th>
              {showAccount && <th scope="col">Account</th>}
              <th scope="col">Tool</th>
              <th scope="col">Outcome</th>
              <th scope="col">Duration</th>
              <th scope="col">Graph request ID</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <ActivityRow key={item.seq} item={item} showAccount={showAccount} />
            ))}
          </tbody>
        </table>
      )}
      {nextBefore !== null && (
        <div className="actions">
          <button type="button" className="button" disabled={older.pending} onClick={loadOlder}>
            Load older
          </button>
        </div>
      )}
      <ErrorText error={older.error} />
    </>
  );
}

function ActivityRow({ item, showAccount }: { item: ActivityDto; showAccount: boolean }) {
  return (
    <tr>
      <td>{formatTime(item.time)}</td>
      <td>
        {item.keyName ?? '—'}
        {item.client && <span className="muted"> ({item.client})</span>}
      </td>
      {showAccount && <td>{item.account ?? '—'}</td>}
      <td>{item.tool ?? item.type}</td>
      <td>
        <span className={`outcome outcome-${item.outcome}`}>{item.outcome}</span>
        {item.reason && <span className="muted"> {item.reason}</span>}
      </td>
      <td>{formatDuration(item.durationMs)}</td>
      <td>
        {item.graphRequestIds.length === 0
          ? '—'
          : item.graphRequestIds.map((id) => (
              <code key={id} className="request-id">
                {id}
              </code>
            ))}
      </td>
    </tr>
  );
}

type ActivityRequest = CallRequest<'listActivity'>;

function matches(item: ActivityDto, filters: ActivityRequest): boolean {
  return (
    (!filters.keyName || item.keyName === filters.keyName) &&
    (!filters.tool || item.tool === filters.tool) &&
    (!filters.outcome || item.outcome === filters.outcome)
  );
}

function hasFilters(filters: Filters): boolean {
  return Boolean(filters.keyName || filters.tool || filters.outcome);
}
