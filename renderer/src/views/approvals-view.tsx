import type { ApprovalsState } from '../hooks/use-approvals.ts';
import { ErrorText } from '../components/error-text.tsx';
import { ApprovalCard } from './approval-card.tsx';

/** The calls waiting for the user's decision, oldest first. */
export function ApprovalsView({ approvals, error, decide }: ApprovalsState) {
  return (
    <>
      <p className="muted">
        A client asked to do something that needs your approval. You decide here, or from a terminal
        with mcp-valet approvals (the commands are on each call); the client itself never can. No
        decision before the time runs out counts as a deny.
      </p>
      <ErrorText error={error} />
      <p className="visually-hidden" role="status">
        {approvals.length === 1 ? '1 approval pending' : `${approvals.length} approvals pending`}
      </p>
      {approvals.length === 0 ? (
        <p>Nothing is waiting for your approval.</p>
      ) : (
        <ul className="cards" aria-label="Pending approvals">
          {approvals.map((a) => (
            <li key={a.id}>
              <ApprovalCard approval={a} decide={decide} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
