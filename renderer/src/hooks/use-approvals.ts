import { useCallback, useEffect, useState } from 'react';
import type { ApprovalDto, CallRequest } from '../../../preload/contract.ts';
import { useApi } from '../api/api-context.tsx';
import { errorMessage } from '../api/error-message.ts';
import { useAppEvents } from './use-app-events.ts';

/** A decision on an approval, as the contract takes it. */
export type ApprovalDecision = CallRequest<'decideApproval'>['decision'];

/** The pending approvals, kept by the app shell so the navigation can count them. */
export interface ApprovalsState {
  approvals: ApprovalDto[];
  error: string | null;
  /** Sends a decision; on success the approval leaves the list. Throws the core's error. */
  decide: (id: string, decision: ApprovalDecision) => Promise<void>;
}

/**
 * Loads pending approvals and follows `approval-requested`/`approval-decided`;
 * `onRequested` hears of each new one (to announce it while another view is shown).
 */
export function useApprovals(onRequested: (approval: ApprovalDto) => void): ApprovalsState {
  const api = useApi();
  const [approvals, setApprovals] = useState<ApprovalDto[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    api.listApprovals({}).then(
      (list) => {
        // Events may have arrived while the list loaded: keep those too.
        if (current) setApprovals((seen) => merge(list, seen));
      },
      (e: unknown) => {
        if (current) setError(errorMessage(e));
      },
    );
    return () => {
      current = false;
    };
  }, [api]);
  useAppEvents((event) => {
    if (event.type === 'approval-requested') {
      setApprovals((list) => merge(list, [event.approval]));
      onRequested(event.approval);
    } else if (event.type === 'approval-decided') {
      setApprovals((list) => list.filter((a) => a.id !== event.id));
    }
  });
  const decide = useCallback(
    async (id: string, decision: ApprovalDecision) => {
      await api.decideApproval({ id, decision });
      setApprovals((list) => list.filter((a) => a.id !== id));
    },
    [api],
  );
  return { approvals, error, decide };
}

/** `list` plus the approvals of `more` it lacks, oldest request first. */
function merge(list: ApprovalDto[], more: ApprovalDto[]): ApprovalDto[] {
  const ids = new Set(list.map((a) => a.id));
  return [...list, ...more.filter((a) => !ids.has(a.id))].sort((a, b) =>
    a.requestedAt.localeCompare(b.requestedAt),
  );
}
