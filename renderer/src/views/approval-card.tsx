import { useState } from 'react';
import type { ApprovalDto } from '../../../preload/contract.ts';
import type { ApprovalDecision } from '../hooks/use-approvals.ts';
import { useAction } from '../hooks/use-action.ts';
import { useNow } from '../hooks/use-now.ts';
import { formatTime, formatTimeLeft } from '../format.ts';
import { ErrorText } from '../components/error-text.tsx';

const WINDOW_MINUTES = [5, 15, 30, 60, 240];

/**
 * One pending call: the faithful summary of what it will do, who asks, and the decision buttons;
 * then how else to decide it: the terminal commands, or on a team server its own `page`.
 */
export function ApprovalCard({
  approval: a,
  decide,
  page,
}: {
  approval: ApprovalDto;
  decide: (id: string, decision: ApprovalDecision) => Promise<void>;
  page?: string;
}) {
  const now = useNow();
  const [minutes, setMinutes] = useState(15);
  const action = useAction();
  const titleId = `approval-${a.id}`;
  const expired = new Date(a.expiresAt).getTime() <= now;
  const send = (decision: ApprovalDecision) => void action.run(() => decide(a.id, decision));
  // A team server's client has no version (a stateless call never sees the client's own).
  const client = a.client
    ? [a.client.name, a.client.version].filter(Boolean).join(' ')
    : 'an unnamed client';
  return (
    <article className="card" aria-labelledby={titleId}>
      <h2 id={titleId}>
        {a.action} <span className="muted">({a.tool})</span>
      </h2>
      <p>
        Asked by key <strong>{a.key.name}</strong> from {client}, acting as {a.account}.
      </p>
      <dl className="summary">
        {a.summary.map((line, i) => (
          <div key={`${i}-${line.label}`}>
            <dt>{line.label}</dt>
            {/* Multi-line values (a mail body) keep their line breaks: the CSS sets pre-wrap. */}
            <dd className="multiline">
              <SummaryValue value={line.value} />
            </dd>
          </div>
        ))}
      </dl>
      <p className="muted">
        Requested {formatTime(a.requestedAt)} ·{' '}
        {expired ? 'Timed out: counts as deny' : `Time left: ${formatTimeLeft(a.expiresAt, now)}`}
      </p>
      <div className="actions">
        <button
          type="button"
          className="button primary"
          disabled={action.pending || expired}
          onClick={() => send({ kind: 'once' })}
        >
          Approve once
        </button>
        <button
          type="button"
          className="button"
          disabled={action.pending || expired}
          onClick={() => send({ kind: 'window', minutes })}
        >
          Approve for {minutes} minutes
        </button>
        <label className="inline-field">
          <span className="visually-hidden">Approve {a.tool} for this key for</span>
          <select value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
            {WINDOW_MINUTES.map((m) => (
              <option key={m} value={m}>
                {m} minutes
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="button danger"
          disabled={action.pending}
          onClick={() => send({ kind: 'deny' })}
        >
          Deny
        </button>
      </div>
      <ErrorText error={action.error} />
      {page ? (
        <p className="muted">
          <a href={page}>Open its approval page</a>
        </p>
      ) : (
        <p className="muted">
          From a terminal: <code>mcp-valet approvals approve {a.id}</code> or{' '}
          <code>mcp-valet approvals deny {a.id}</code>
        </p>
      )}
    </article>
  );
}

/**
 * The core's marks in a summary value: `⟦…⟧` for characters that do not show in the
 * message, `⚠ …` for a URL that is not what it seems, and the line that says what was cut.
 * The core marks any `⟦`, `⟧` or line-leading `…` of the message itself, so these are its own.
 */
const MARKS = /(⟦[^⟦⟧\n]*⟧|⚠[^\n]*|^… (?:not shown:|and \d)[^\n]*)/gm;

/** A summary value with the core's marks set apart, as text: nothing in it is a link. */
function SummaryValue({ value }: { value: string }) {
  const parts = value.split(MARKS);
  return (
    <>
      {parts.map((part, i) => {
        if (i % 2 === 0) return part;
        if (part.startsWith('⟦'))
          return (
            <mark
              key={i}
              className="hidden-char"
              title="Not visible in the message: shown here as a mark"
            >
              {part}
            </mark>
          );
        if (part.startsWith('⚠'))
          return (
            <strong key={i} className="url-warning">
              {part}
            </strong>
          );
        return (
          <em key={i} className="cut">
            {part}
          </em>
        );
      })}
    </>
  );
}
