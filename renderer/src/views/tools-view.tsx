import { useCallback } from 'react';
import type { PolicyDto, ToolPolicyDto } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { useAction } from '../hooks/use-action.ts';
import { useLoaded } from '../hooks/use-loaded.ts';
import { ErrorText } from '../components/error-text.tsx';

/** The tools and the policy around them; each tool can be turned off for every key. */
export function ToolsView() {
  const api = useApi();
  const {
    data: policy,
    setData: setPolicy,
    error: loadError,
  } = useLoaded(useCallback(() => api.getPolicy({}), [api]));
  if (!policy) return <ErrorText error={loadError} />;
  const { rateLimits: r } = policy;
  return (
    <>
      <table>
        <caption>Tools, for every valet key</caption>
        <thead>
          <tr>
            <th scope="col">Tool</th>
            <th scope="col">Kind</th>
            <th scope="col">Graph permissions</th>
            <th scope="col">Approval</th>
            <th scope="col">App role required</th>
            <th scope="col">On</th>
          </tr>
        </thead>
        <tbody>
          {policy.tools.map((t) => (
            <ToolRow key={t.tool} tool={t} onPolicy={setPolicy} />
          ))}
        </tbody>
      </table>
      <section aria-labelledby="policy-limits">
        <h2 id="policy-limits">Limits</h2>
        <p>
          Approvals time out after {policy.approvalTimeoutSeconds} seconds; no decision counts as a
          deny.
        </p>
        <p>
          Each key may make {r.requestsPerMinute} requests a minute (bursts of {r.burst}) with{' '}
          {r.concurrentPerKey} calls in flight; the whole endpoint allows {r.concurrentTotal} calls
          in flight.
        </p>
        <p className="muted">Administrators set these in the policy section of config.json.</p>
      </section>
    </>
  );
}

function ToolRow({ tool: t, onPolicy }: { tool: ToolPolicyDto; onPolicy: (p: PolicyDto) => void }) {
  const api = useApi();
  const toggle = useAction();
  return (
    <tr>
      <th scope="row">
        {t.title} <code className="muted">{t.tool}</code>
      </th>
      <td>{t.kind === 'write' ? 'Changes data' : 'Read'}</td>
      <td>{t.scopes.length ? t.scopes.join(', ') : '—'}</td>
      <td>{t.approval ? 'Asks first' : 'No'}</td>
      <td>{t.requireRole ?? '—'}</td>
      <td>
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            checked={t.enabled}
            disabled={toggle.pending}
            onChange={(e) => {
              const enabled = e.target.checked;
              void toggle.run(async () =>
                onPolicy(await api.setToolEnabled({ tool: t.tool, enabled })),
              );
            }}
          />
          <span className="visually-hidden">
            {t.title} ({t.tool})
          </span>
          <span aria-hidden="true">{t.enabled ? 'On' : 'Off'}</span>
        </label>
        <ErrorText error={toggle.error} />
      </td>
    </tr>
  );
}
