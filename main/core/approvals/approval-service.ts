import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ValetError } from '../util/valet-error.ts';

/** A line of the summary the user reads before deciding: what will happen, faithfully. */
export interface SummaryLine {
  label: string;
  value: string;
}

/** A call waiting for the user's decision. The summary is for the user's eyes: never logged or audited. */
export interface PendingApproval {
  id: string;
  tool: string;
  /** What the tool will do, e.g. "Send an email". */
  action: string;
  key: { id: string; name: string };
  client: { name: string; version: string } | null;
  account: string;
  summary: SummaryLine[];
  requestedAt: string;
  expiresAt: string;
}

/** The user's answer. `window` approves this tool for this key for some minutes. */
export type ApprovalDecision =
  { kind: 'once' } | { kind: 'window'; minutes: number } | { kind: 'deny' };

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
    if (decision.kind === 'window') {
      if (
        !Number.isInteger(decision.minutes) ||
        decision.minutes < 1 ||
        decision.minutes > 24 * 60
      ) {
        throw new ValetError(
          'invalid_decision',
          'Approve-for-a-while takes a whole number of minutes from 1 to 1440',
        );
      }
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
