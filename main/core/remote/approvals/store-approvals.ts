import { approvalDecisionSchema } from '../../approvals/approval-decision.ts';
import type {
  ApprovalDecision,
  ApprovalOutcome,
  PendingApproval,
} from '../../approvals/approval-service.ts';
import { approvalRequested } from '../../app/audit-wiring.ts';
import type { AuditEvent } from '../../audit/audit-types.ts';
import type {
  ApprovalCallContext,
  ApprovalRequest,
  ApprovalRequester,
} from '../../mcp/call-types.ts';
import { silentLogger, type Logger } from '../../util/logger.ts';
import { describeError, ValetError } from '../../util/valet-error.ts';
import type { CacheKeys } from '../cache-keys.ts';
import type { SharedStore, Unsubscribe } from '../store/shared-store.ts';
import { approvalIdOf, callKeyOf } from './approval-id.ts';
import type { ApprovalReach } from './approval-reach.ts';
import {
  APPROVAL_CHANNEL,
  approvalKeys,
  readApproval,
  writePending,
  type ApprovalEnd,
  type StoredApproval,
} from './approval-records.ts';

/** How the store-backed approvals are made. */
export interface StoreApprovalsOptions {
  store: SharedStore;
  /** The server's public URL: an approval's page is `<public>/approvals/<id>`. */
  publicUrl: string;
  /** Seals each summary (recipients, subjects, text) in the store; without it they are plain. */
  cacheKeys?: CacheKeys;
  /**
   * The audit hook, as the tool runner's: `approval_requested` is written before an approval
   * is stored (one whose record cannot be written is never shown), `approval_decided` when
   * one ends, by the instance that ends it.
   */
  audit: (event: AuditEvent) => Promise<unknown>;
  now?: () => number;
  /** How often a waiting call re-reads its approval besides being woken (default 2 s). */
  pollMs?: number;
  /** How long a decision waits for the client's retry to find it (default 5 minutes). */
  retryGraceMs?: number;
  logger?: Logger;
}

/** A call waiting on this instance: woken to re-read its approval. */
interface Waiter {
  id: string;
  wake: () => void;
}

/**
 * Approvals of remote mode, kept in the shared store so that any instance can show and decide
 * them: a call waits on the instance it came to, its user decides on a page served by any
 * instance, and the waiting instance learns of it from `ev:approval` or, should that message be
 * missed, from re-reading the record every `pollMs`. The approval of a call is named by a hash
 * of the user, key, tool and canonical arguments, so the client's retry of the same call finds
 * it and its decision; an approve-once decision is used by exactly one call (GETDEL of its
 * grant), after which the same call asks again. No decision in time is deny; a client that
 * hangs up cancels. An instance that stops leaves its approvals pending for the retry.
 */
export class StoreApprovals {
  readonly #o: Required<Omit<StoreApprovalsOptions, 'cacheKeys'>> & { cacheKeys?: CacheKeys };
  readonly #waiters = new Set<Waiter>();
  #subscription: Promise<Unsubscribe> | undefined;
  #poll: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: StoreApprovalsOptions) {
    this.#o = {
      now: Date.now,
      pollMs: 2_000,
      retryGraceMs: 5 * 60_000,
      logger: silentLogger,
      ...options,
      publicUrl: options.publicUrl.replace(/\/+$/, ''),
    };
  }

  /** The page where the user decides approval `id`. */
  url(id: string): string {
    return `${this.#o.publicUrl}/approvals/${id}`;
  }

  /**
   * What the tool runner of one request asks approvals of: bound to the user the request acts
   * as (only they can decide) and to how the request's client can be sent to a page.
   */
  requester(owner: { oid: string }, reach?: ApprovalReach): ApprovalRequester {
    return {
      request: (input, timeoutMs, signal, context) =>
        this.#request(owner.oid, reach, input, timeoutMs, signal, context),
    };
  }

  /** The approval `id`, or undefined when there is none. */
  get(id: string): Promise<StoredApproval | undefined> {
    return readApproval(this.#o.store, this.#o.cacheKeys, id, this.#o.now());
  }

  /**
   * Records `oid`'s decision on approval `id` and wakes the waiting call wherever it is.
   * Resolves to the approval as it now stands: one that had already ended is returned as it is,
   * unchanged. Throws a ValetError when there is no such approval, it is another user's, or the
   * decision is not valid; and when its audit record cannot be written (nothing is decided).
   */
  async decide(id: string, oid: string, decision: ApprovalDecision): Promise<StoredApproval> {
    checkDecision(decision);
    const approval = await this.get(id);
    if (!approval)
      throw new ValetError(
        'no_approval',
        `No approval ${id}: it timed out long ago or never existed; ask the client to call again`,
      );
    if (approval.oid !== oid)
      throw new ValetError('approval_forbidden', 'This approval is not yours to decide');
    if (approval.status !== 'pending') return approval;
    const status = decision.kind === 'deny' ? 'denied' : 'approved';
    await this.#o.audit(decidedEvent(approval, status, decision));
    const { store, retryGraceMs } = this.#o;
    if (status === 'approved')
      await store.set(approvalKeys.grant(id), '1', { ttlMs: retryGraceMs });
    const end: ApprovalEnd = { status, decision, at: this.#iso() };
    if (!(await store.set(approvalKeys.outcome(id), JSON.stringify(end), this.#once()))) {
      // The call timed out or went in the same moment: its end stands, and no grant is left.
      if (status === 'approved') await store.del(approvalKeys.grant(id));
      return (await this.get(id)) ?? approval;
    }
    if (decision.kind === 'window') {
      const ttlMs = decision.minutes * 60_000;
      await store.set(approvalKeys.window(approval.key.id, approval.tool), '1', { ttlMs });
      await store.sAdd(approvalKeys.windows(approval.key.id), [approval.tool], {
        ttlMs: Math.max(ttlMs, (await store.ttl(approvalKeys.windows(approval.key.id))) ?? 0),
      });
    }
    await this.#ended(approval, status);
    return (await this.get(id)) ?? approval;
  }

  /** `oid`'s approvals still waiting for a decision, soonest to expire first. */
  async listFor(oid: string): Promise<StoredApproval[]> {
    const key = approvalKeys.pending(oid);
    const now = this.#o.now();
    await this.#o.store.zRemRangeByScore(key, -Infinity, now);
    const ids = await this.#o.store.zRangeByScore(key, now + 1, Infinity, { limit: 100 });
    const all = await Promise.all(ids.map(({ member }) => this.get(member)));
    return all.filter((a): a is StoredApproval => a?.status === 'pending');
  }

  /** Ends every approve-for-a-while window of a key (when it is revoked). */
  async forgetKey(keyId: string): Promise<void> {
    const { store } = this.#o;
    const tools = await store.sMembers(approvalKeys.windows(keyId));
    await Promise.all(tools.map((tool) => store.del(approvalKeys.window(keyId, tool))));
    await store.del(approvalKeys.windows(keyId));
  }

  /**
   * Stops waiting: calls still waiting here end as `cancelled` for their caller, but their
   * approvals stay pending in the store, where the client's retry on another instance finds them.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poll);
    for (const waiter of [...this.#waiters]) waiter.wake();
    const unsubscribe = await this.#subscription?.catch(() => undefined);
    await unsubscribe?.();
  }

  async #request(
    oid: string,
    reach: ApprovalReach | undefined,
    input: ApprovalRequest,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    context: ApprovalCallContext | undefined,
  ): Promise<ApprovalOutcome> {
    if (signal?.aborted) return 'cancelled';
    if (this.#closed) throw new ValetError('approval_unavailable', 'The server is stopping');
    const { store } = this.#o;
    if ((await store.get(approvalKeys.window(input.key.id, input.tool))) !== null)
      return 'approved-by-window';
    if (!context)
      throw new ValetError(
        'approval_unavailable',
        `${input.tool} needs the user's approval, but the call's arguments were not given to the approvals: please report this bug in MCP Valet`,
      );
    const callKey = callKeyOf({ oid, keyId: input.key.id, tool: input.tool, args: context.args });
    const boundId = await store.get(approvalKeys.call(callKey));
    const bound = boundId ? await this.get(boundId) : undefined;
    let id: string;
    if (!bound || bound.oid !== oid) id = approvalIdOf(callKey);
    else if (bound.status === 'pending')
      return this.#wait(bound, input, timeoutMs, signal, context);
    else if (bound.status === 'denied') return 'denied';
    else if (bound.status === 'approved') {
      if (!bound.used && (await this.#take(bound))) return 'approved';
      // That decision was used by an earlier call: this one asks again, at a new address.
      id = approvalIdOf(callKey, bound.id);
    } else id = bound.id; // timed out or cancelled: the same approval asks again, same page.
    const approval = await this.#open(id, oid, callKey, input, timeoutMs);
    if (reach?.urlElicitation) {
      const message = `Approve ${input.tool} in MCP Valet: open ${this.url(id)}, then call again`;
      reach.require({ elicitationId: id, url: this.url(id), message });
      throw new ValetError(
        'approval_required',
        `${input.tool} waits for the user's approval at ${this.url(id)}; it was not run. Once the user has decided there, call it again with the same arguments.`,
      );
    }
    return this.#wait(approval, input, timeoutMs, signal, context);
  }

  /** Stores a new (or reopened) pending approval, once its audit record is written. */
  async #open(
    id: string,
    oid: string,
    callKey: string,
    input: ApprovalRequest,
    timeoutMs: number,
  ): Promise<StoredApproval> {
    const { store } = this.#o;
    const now = this.#o.now();
    const approval: PendingApproval = {
      ...input,
      id,
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + timeoutMs).toISOString(),
    };
    await this.#o.audit(approvalRequested(approval));
    const ttlMs = timeoutMs + this.#o.retryGraceMs;
    await store.del(approvalKeys.outcome(id));
    await store.del(approvalKeys.grant(id));
    await writePending(store, this.#o.cacheKeys, approval, { oid, callKey }, ttlMs);
    await store.zAdd(approvalKeys.pending(oid), [{ member: id, score: now + timeoutMs }], {
      ttlMs: Math.max(ttlMs, (await store.ttl(approvalKeys.pending(oid))) ?? 0),
    });
    await store.set(approvalKeys.call(callKey), id, { ttlMs });
    return { ...approval, oid, callKey, status: 'pending', used: false };
  }

  /** Waits on this instance until approval `approval.id` ends. */
  #wait(
    approval: StoredApproval,
    input: ApprovalRequest,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    context: ApprovalCallContext,
  ): Promise<ApprovalOutcome> {
    const { id } = approval;
    const url = this.url(id);
    context.waitingAt(`Waiting for approval of ${input.tool}: the user decides at ${url}`);
    return new Promise<ApprovalOutcome>((resolve, reject) => {
      let reading = false;
      let again = false;
      const finish = (result: Promise<ApprovalOutcome> | ApprovalOutcome | Error) => {
        this.#waiters.delete(waiter);
        if (this.#waiters.size === 0) clearInterval(this.#poll);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const read = async (marked = false): Promise<void> => {
        if (this.#closed) return finish('cancelled');
        const now = await this.get(id);
        if (!now)
          return finish(
            new ValetError(
              'no_approval',
              `The approval of ${input.tool} is gone from the store, so it was not run; call it again`,
            ),
          );
        if (now.status === 'pending') return;
        if (now.status === 'timed-out' && !marked) {
          // Expired, maybe with no one to mark it yet: mark it (once), then read what stands.
          await this.#end(now, 'timed-out');
          return read(true);
        }
        if (now.status === 'approved') {
          if (!now.used && (await this.#take(now))) return finish('approved');
          return finish(this.#request(now.oid, undefined, input, timeoutMs, signal, context));
        }
        if (now.status === 'denied') return finish('denied');
        if (now.status === 'cancelled') return finish('cancelled');
        return finish(
          new ValetError(
            'approval_timed-out',
            `No one approved ${input.tool} within ${Math.round(timeoutMs / 1000)} seconds, so it was not run. The user decides at ${url}; once decided there, call it again with the same arguments.`,
          ),
        );
      };
      const wake = () => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        void (async () => {
          try {
            do {
              again = false;
              await read();
            } while (again && this.#waiters.has(waiter));
          } catch (err) {
            finish(err instanceof Error ? err : new Error(String(err)));
          } finally {
            reading = false;
          }
        })();
      };
      const waiter: Waiter = { id, wake };
      const onAbort = () =>
        void this.#end(approval, 'cancelled')
          .catch((err) =>
            this.#o.logger.warn(`Could not cancel an approval: ${describeError(err)}`),
          )
          .finally(wake);
      const left = Date.parse(approval.expiresAt) - this.#o.now();
      const timer = setTimeout(
        () =>
          void this.#end(approval, 'timed-out')
            .catch((err) =>
              this.#o.logger.warn(`Could not time out an approval: ${describeError(err)}`),
            )
            .finally(wake),
        Math.max(0, left),
      );
      timer.unref();
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#listen();
      wake();
    });
  }

  /** Subscribes once to decisions, and re-reads every waiter's approval every `pollMs`. */
  #listen(): void {
    this.#subscription ??= this.#o.store.subscribe(APPROVAL_CHANNEL, (id) => {
      for (const waiter of this.#waiters) if (waiter.id === id) waiter.wake();
    });
    this.#subscription.catch((err) =>
      this.#o.logger.warn(`Approvals wait by polling only: ${describeError(err)}`),
    );
    if (this.#waiters.size === 1) {
      clearInterval(this.#poll);
      this.#poll = setInterval(() => {
        for (const waiter of this.#waiters) waiter.wake();
      }, this.#o.pollMs).unref();
    }
  }

  /** Ends a pending approval as timed out or cancelled, when no decision came first. */
  async #end(approval: StoredApproval, status: 'timed-out' | 'cancelled'): Promise<void> {
    const end: ApprovalEnd = { status, at: this.#iso() };
    const { store } = this.#o;
    if (!(await store.set(approvalKeys.outcome(approval.id), JSON.stringify(end), this.#once())))
      return;
    await this.#ended(approval, status);
    // Nothing runs on this end, so a record that cannot be written is logged, not fatal.
    await this.#o
      .audit(decidedEvent(approval, status))
      .catch((err) =>
        this.#o.logger.error(`Could not audit the end of an approval: ${describeError(err)}`),
      );
  }

  /** After an approval's outcome is written: its record says so, and every instance is told. */
  async #ended(approval: StoredApproval, status: ApprovalEnd['status']): Promise<void> {
    const { store, retryGraceMs } = this.#o;
    await store.hSet(approvalKeys.record(approval.id), { status, endedAt: this.#iso() });
    for (const key of [approvalKeys.record(approval.id), approvalKeys.call(approval.callKey)])
      await store.expire(key, retryGraceMs);
    await store.zRem(approvalKeys.pending(approval.oid), [approval.id]);
    await store.publish(APPROVAL_CHANNEL, approval.id);
  }

  /** Takes an approve-once grant: true for exactly one call. */
  async #take(approval: StoredApproval): Promise<boolean> {
    if ((await this.#o.store.getDel(approvalKeys.grant(approval.id))) === null) return false;
    await this.#o.store.hSet(approvalKeys.record(approval.id), { used: '1' });
    return true;
  }

  #once(): { onlyIfAbsent: true; ttlMs: number } {
    return { onlyIfAbsent: true, ttlMs: this.#o.retryGraceMs };
  }

  #iso(): string {
    return new Date(this.#o.now()).toISOString();
  }
}

/** The `approval_decided` audit record, as the local app writes it. No summary. */
function decidedEvent(
  a: StoredApproval,
  outcome: ApprovalEnd['status'],
  decision?: ApprovalDecision,
): AuditEvent {
  return {
    type: 'approval_decided',
    actor: { keyId: a.key.id, keyName: a.key.name, account: a.account },
    outcome,
    details: {
      tool: a.tool,
      approvalId: a.id,
      ...(decision?.kind === 'window' ? { minutes: decision.minutes } : {}),
    },
  };
}

/** Refuses a decision the approval rule does not allow, as the local service words it. */
function checkDecision(decision: ApprovalDecision): void {
  const checked = approvalDecisionSchema.safeParse(decision);
  if (checked.success) return;
  const issue = checked.error.issues[0];
  throw new ValetError(
    'invalid_decision',
    issue?.path.at(-1) === 'minutes'
      ? `The approval window ${issue.message}`
      : 'The decision is not once, window or deny',
  );
}
