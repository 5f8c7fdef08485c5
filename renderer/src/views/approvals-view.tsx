import type { ApprovalsState } from '../hooks/use-approvals.ts';
import { ErrorText } from '../components/error-text.tsx';
import { ApprovalCard } from './approval-card.tsx';

/** Props of ApprovalsView: the approvals and, on a team server, where each one's own page is. */
export interface ApprovalsViewProps extends ApprovalsState {
  /**
   * The page of approval `id` on a team server, where its client sends the user; a team server
   * has no terminal commands for approvals, so its cards link there instead.
   */
  approvalPage?: (id: string) => string;
}

/** The calls waiting for the user's decision, oldest first. */
export function ApprovalsView({ approvals, error, decide, approvalPage }: ApprovalsViewProps) {
  return (
    <>
      {approvalPage ? (
        <p className="muted">
          A client asked to do something that needs your approval. You decide here, or on the
          approval&apos;s own page that the client showed you; the client itself never can. No
          decision before the time runs out counts as a deny.
        </p>
      ) : (
        <p className="muted">
          A client asked to do something that needs your approval. You decide here, or from a
          terminal with mcp-valet approvals (the commands are on each call); the client itself never
          can. No decision before the time runs out counts as a deny.
        </p>
      )}
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
              <ApprovalCard
                approval={a}
                decide={decide}
                {...(approvalPage ? { page: approvalPage(a.id) } : {})}
              />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
