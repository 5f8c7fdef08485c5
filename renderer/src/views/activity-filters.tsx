import { useEffect, useState } from 'react';
import { TOOL_NAMES, type CallRequest } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';

/** The filters of the activity log, as listActivity takes them. */
export type Filters = Pick<CallRequest<'listActivity'>, 'keyName' | 'tool' | 'outcome'>;

const OUTCOMES = ['allowed', 'denied', 'failed'] as const;

/** Client, tool and outcome pickers for the activity log. */
export function ActivityFilters({
  filters,
  onChange,
}: {
  filters: Filters;
  onChange: (f: Filters) => void;
}) {
  const api = useApi();
  const [keyNames, setKeyNames] = useState<string[]>([]);
  useEffect(() => {
    // Without the key list the client filter offers only "All clients"; the log still works.
    api.listKeys({}).then(
      (keys) => setKeyNames([...new Set(keys.map((k) => k.name))].sort()),
      () => setKeyNames([]),
    );
  }, [api]);
  const set = (patch: Filters) => {
    const next = { ...filters, ...patch };
    onChange(Object.fromEntries(Object.entries(next).filter(([, v]) => v)) as Filters);
  };
  return (
    <form className="filters" aria-label="Filter activity" onSubmit={(e) => e.preventDefault()}>
      <div className="field">
        <label htmlFor="filter-client">Client</label>
        <select
          id="filter-client"
          value={filters.keyName ?? ''}
          onChange={(e) => set({ keyName: e.target.value })}
        >
          <option value="">All clients</option>
          {keyNames.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="filter-tool">Tool</label>
        <select
          id="filter-tool"
          value={filters.tool ?? ''}
          onChange={(e) => set({ tool: (e.target.value || undefined) as Filters['tool'] })}
        >
          <option value="">All tools</option>
          {TOOL_NAMES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="filter-outcome">Outcome</label>
        <select
          id="filter-outcome"
          value={filters.outcome ?? ''}
          onChange={(e) => set({ outcome: (e.target.value || undefined) as Filters['outcome'] })}
        >
          <option value="">Any outcome</option>
          {OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </div>
    </form>
  );
}
