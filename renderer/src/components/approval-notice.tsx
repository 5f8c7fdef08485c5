import type { ApprovalDto } from '../../../preload/contract.ts';

/**
 * The banner for an approval that arrived while another view was shown. Its container is
 * always rendered and live, so screen readers announce the banner when it appears.
 */
export function ApprovalNotice({
  approval,
  onOpen,
  onDismiss,
}: {
  approval: ApprovalDto | null;
  onOpen: () => void;
  onDismiss: () => void;
}) {
  return (
    <div className="notice-region" role="status" aria-live="polite">
      {approval && (
        <div className="banner">
          <span>
            Approval needed: key {approval.key.name} asks to run {approval.tool}.
          </span>
          <button type="button" className="button primary" onClick={onOpen}>
            Review in Approvals
          </button>
          <button type="button" className="button" onClick={onDismiss}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}
