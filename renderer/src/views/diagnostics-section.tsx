import { useCallback } from 'react';
import { useApi } from '../api/api-context.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorText } from '../components/error-text.tsx';
import { useAction } from '../hooks/use-action.ts';
import { useLoaded } from '../hooks/use-loaded.ts';

const LINES = 20;

/**
 * Where the app writes what it did and what went wrong, with its last lines and, in the
 * desktop app, a button that opens it: a packaged app has no terminal to read.
 */
export function DiagnosticsSection() {
  const api = useApi();
  const fetch = useCallback(() => api.getDiagnostics({ lines: LINES }), [api]);
  const { data, error, reload } = useLoaded(fetch);
  const open = useAction();
  return (
    <section aria-labelledby="status-diagnostics">
      <h2 id="status-diagnostics">Diagnostics</h2>
      <ErrorText error={error} />
      {data && !data.path && (
        <p className="muted">
          This window is served by <code>mcp-valet serve</code> or <code>demo</code>: diagnostics go
          to the terminal it runs in (more with <code>VALET_LOG_LEVEL=debug</code>).
        </p>
      )}
      {data?.path && (
        <>
          <p>
            What MCP Valet did and what went wrong, never a token, key or message, is kept in{' '}
            <code>{data.path}</code> <CopyButton text={data.path} label="Copy log path" />
          </p>
          <div className="actions">
            {data.canOpen && (
              <button
                type="button"
                className="button"
                disabled={open.pending}
                onClick={() => void open.run(() => api.openDiagnostics({}))}
              >
                Open diagnostics log
              </button>
            )}
            <button type="button" className="button" onClick={() => void reload()}>
              Show the latest lines
            </button>
          </div>
          <ErrorText error={open.error} />
          {data.recent.length ? (
            <details>
              <summary>Last {data.recent.length} lines</summary>
              <pre className="config" aria-label="Last lines of the diagnostics log">
                {data.recent.join('\n')}
              </pre>
            </details>
          ) : (
            <p className="muted">Nothing written yet.</p>
          )}
        </>
      )}
    </section>
  );
}
