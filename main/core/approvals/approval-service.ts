import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type {
  ApprovalDecisionDto,
  ApprovalDto,
  SummaryLineDto,
} from '../../../preload/contract.ts';
import { ValetError } from '../util/valet-error.ts';
import { approvalDecisionSchema } from './approval-decision.ts';

/** A line of the summary the user reads before deciding. */
export type SummaryLine = SummaryLineDto;

/** A call waiting for the user's decision: the window's ApprovalDto is this same type. */
export type PendingApproval = ApprovalDto;

/** The user's answer. `window` approves this tool for this key for some minutes. */
export type ApprovalDecision = ApprovalDecisionDto;

/** How a pending call ended. */
export type ApprovalOutcome =
  'approved' | 'approved-by-window' | 'denied' | 'timed-out' | 'cancelled';

/** Events the UI, the tray and the audit log follow. No summaries in the decided event. */
export interface ApprovalEventMap {
  'approval-requested': [PendingApproval];
  'approval-decided': [
    {
      id: string;
      tool: string;
      key: { id: string; name: string };
      account: string;
      outcome: ApprovalOutcome;
      decision?: ApprovalDecision;
    },
  ];
}

interface Waiter {
  approval: PendingApproval;
  finish: (outcome: ApprovalOutcome, decision?: ApprovalDecision) => void;
}

/**
 * Holds risky calls until the user decides in MCP Valet itself (the app, or `mcp-valet
 * approvals` headless). Nothing a client sends can decide: only `decide()`, which the
 * control API and the app call, resolves a pending call. No decision in time means deny.
 */
export class ApprovalService extends EventEmitter<ApprovalEventMap> {
  readonly #now: () => number;
  readonly #pending = new Map<string, Waiter>();
  /** `${keyId}\n${tool}` → until when an approve-for-N-minutes decision holds. */
  readonly #windows = new Map<string, number>();

  readonly #record: ((approval: PendingApproval) => Promise<void>) | undefined;

  /**
   * `record` writes the audit record of a prompt; the user is asked only once it is written,
   * and a prompt whose record cannot be written is never shown (the request rejects).
   */
  constructor(now: () => number = Date.now, record?: (approval: PendingApproval) => Promise<void>) {
    super();
    this.#now = now;
    this.#record = record;
  }

  /**
   * Waits for the user's decision on a call; resolves with how it ended. Aborting `signal`
   * (the caller cancelled or hung up) takes the prompt away and ends the wait as `cancelled`;
   * a caller that is already gone is never shown to the user.
   */
  async request(
    input: Omit<PendingApproval, 'id' | 'requestedAt' | 'expiresAt'>,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ApprovalOutcome> {
    if (signal?.aborted) return 'cancelled';
    const windowKey = `${input.key.id}\n${input.tool}`;
    const until = this.#windows.get(windowKey);
    if (until !== undefined) {
      if (until > this.#now()) return 'approved-by-window';
      this.#windows.delete(windowKey);
    }
    const now = this.#now();
    const approval: PendingApproval = {
      ...input,
      id: randomUUID(),
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + timeoutMs).toISOString(),
    };
    if (this.#record) {
      await this.#record(approval);
      if (signal?.aborted) {
        // The caller went while the record was written: its prompt ends before it is shown.
        this.emit('approval-decided', {
          id: approval.id,
          tool: approval.tool,
          key: approval.key,
          account: approval.account,
          outcome: 'cancelled',
        });
        return 'cancelled';
      }
    }
    return new Promise((resolve) => {
      const finish = (outcome: ApprovalOutcome, decision?: ApprovalDecision) => {
        if (!this.#pending.delete(approval.id)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.emit('approval-decided', {
          id: approval.id,
          tool: approval.tool,
          key: approval.key,
          account: approval.account,
          outcome,
          ...(decision ? { decision } : {}),
        });
        resolve(outcome);
      };
      const onAbort = () => finish('cancelled');
      const timer = setTimeout(() => finish('timed-out'), timeoutMs);
      timer.unref();
      this.#pending.set(approval.id, { approval, finish });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.emit('approval-requested', approval);
    });
  }

  /** Calls waiting for a decision, oldest first. */
  list(): PendingApproval[] {
    return [...this.#pending.values()]
      .map((w) => w.approval)
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }

  /** Records the user's decision on a pending call. */
  decide(id: string, decision: ApprovalDecision): PendingApproval {
    const waiter = this.#pending.get(id);
    if (!waiter) {
      throw new ValetError(
        'no_approval',
        `No pending approval ${id}: it was decided already or timed out (see \`mcp-valet approvals list\`)`,
      );
    }
    const checked = approvalDecisionSchema.safeParse(decision);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new ValetError(
        'invalid_decision',
        issue?.path.at(-1) === 'minutes'
          ? `The approval window ${issue.message}`
          : 'The decision is not once, window or deny',
      );
    }
    if (decision.kind === 'window') {
      this.#windows.set(
        `${waiter.approval.key.id}\n${waiter.approval.tool}`,
        this.#now() + decision.minutes * 60_000,
      );
    }
    waiter.finish(decision.kind === 'deny' ? 'denied' : 'approved', decision);
    return waiter.approval;
  }

  /** Forgets the approve-for-N-minutes windows of a key (when it is revoked). */
  forgetKey(keyId: string): void {
    for (const k of this.#windows.keys()) if (k.startsWith(`${keyId}\n`)) this.#windows.delete(k);
  }
}
