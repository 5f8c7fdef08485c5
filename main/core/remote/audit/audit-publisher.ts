import type { AuditRecord } from '../../audit/audit-types.ts';
import type { Logger } from '../../util/logger.ts';
import { describeError } from '../../util/valet-error.ts';
import type { SharedStore } from '../store/shared-store.ts';
import {
  ACTIVITY_MAX_LEN,
  ACTIVITY_STREAM,
  activityFields,
  auditHeadKey,
  type PublishedHead,
} from './activity-entry.ts';

/** What an AuditPublisher needs. */
export interface AuditPublisherOptions {
  store: SharedStore;
  /** Names this instance's chain: its head key and every entry it adds. */
  instanceId: string;
  logger: Logger;
  /** About how many entries the shared stream keeps (default 100,000). */
  maxLen?: number;
  /** How many records may wait for the store at most; past it the oldest are not published. */
  maxWaiting?: number;
  /** How often at most a failure to publish is logged (default once a minute). */
  warnEveryMs?: number;
  /** How long a record waits for others to go out with it (default 10 ms). */
  lingerMs?: number;
}

// One MULTI carries at most this many entries: building and answering one holds the event loop
// for about 0.3 ms at this size (measured), so a backlog never stalls the calls for long.
const BATCH = 100;

/**
 * Publishes this instance's audit records to the shared store once they are written: one entry
 * each in the capped activity stream, and the chain's head (`audit:head:{instance}`) as an
 * anchor for `audit verify --redis`. The local chain is the audit: publishing runs beside the
 * calls and never holds or fails one. One round trip is in flight at a time, each a moment
 * (`lingerMs`) after the last, carrying everything written meanwhile; when the store fails,
 * those records stay in the chain only, and the failure is logged at most once every
 * `warnEveryMs`.
 */
export class AuditPublisher {
  readonly #store: SharedStore;
  readonly #instanceId: string;
  readonly #logger: Logger;
  readonly #maxLen: number;
  readonly #maxWaiting: number;
  readonly #warnEveryMs: number;
  readonly #lingerMs: number;
  #waiting: Record<string, string>[] = [];
  #head: PublishedHead | undefined;
  #sending: Promise<void> | undefined;
  #unpublished = 0;
  #lastWarnAt = -Infinity;
  #failing = false;

  constructor(options: AuditPublisherOptions) {
    this.#store = options.store;
    this.#instanceId = options.instanceId;
    this.#logger = options.logger;
    this.#maxLen = options.maxLen ?? ACTIVITY_MAX_LEN;
    this.#maxWaiting = options.maxWaiting ?? 10_000;
    this.#warnEveryMs = options.warnEveryMs ?? 60_000;
    this.#lingerMs = options.lingerMs ?? 10;
  }

  /**
   * Queues a record that is in the chain (written). Never throws: it runs inside the audit
   * log's write, which must not fail because of it.
   */
  publish(record: AuditRecord): void {
    try {
      this.#waiting.push(activityFields(record, this.#instanceId));
      if (this.#waiting.length > this.#maxWaiting) {
        const dropped = this.#waiting.length - this.#maxWaiting;
        this.#waiting.splice(0, dropped);
        this.#failed(dropped, 'the shared store fell behind');
      }
      this.#head = { seq: record.seq, hash: record.hash, time: record.time };
      this.#sending ??= this.#drain();
    } catch (err) {
      this.#logger.error(
        `An audit record could not be queued for publishing: ${describeError(err)}`,
      );
    }
  }

  /** Resolves once every record queued so far was sent to the store, or failed to be. */
  async flush(): Promise<void> {
    while (this.#sending) await this.#sending;
  }

  async #drain(): Promise<void> {
    try {
      do {
        // A round trip waits a moment first, unless a full batch waits already: the records of
        // the calls answered meanwhile go with it, so a busy instance sends one batch every few
        // milliseconds, not one per call.
        if (this.#waiting.length < BATCH)
          await new Promise((resolve) => setTimeout(resolve, this.#lingerMs));
        const batch = this.#waiting.splice(0, BATCH);
        // Every round trip carries the newest head: each record it names is in the chain.
        const head = this.#head;
        this.#head = undefined;
        const failure = await this.#send(batch, head);
        if (failure === undefined) continue;
        // The store is failing: what waits is not tried now (it would fail the same way). The
        // next record written tries again, and its head stands for every record before it.
        const skipped = batch.length + this.#waiting.length;
        this.#waiting = [];
        this.#head = undefined;
        this.#failed(skipped, failure);
        return;
      } while (this.#waiting.length > 0 || this.#head);
      this.#recovered();
    } finally {
      this.#sending = undefined;
    }
  }

  /** Sends entries and a head; resolves to why it failed, or undefined when all went out. */
  async #send(
    batch: Record<string, string>[],
    head: PublishedHead | undefined,
  ): Promise<string | undefined> {
    const writes: Promise<unknown>[] = [];
    if (batch.length > 0)
      writes.push(this.#store.streamAdd(ACTIVITY_STREAM, batch, { maxLen: this.#maxLen }));
    if (head)
      writes.push(
        this.#store.hSet(auditHeadKey(this.#instanceId), {
          seq: String(head.seq),
          hash: head.hash,
          time: head.time,
        }),
      );
    const results = await Promise.allSettled(writes);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    return failure && describeError(failure.reason);
  }

  #failed(records: number, reason: string): void {
    this.#unpublished += records;
    this.#failing = true;
    const now = Date.now();
    if (now - this.#lastWarnAt < this.#warnEveryMs) return;
    this.#lastWarnAt = now;
    this.#logger.warn(
      `${this.#unpublished} audit record(s) of instance ${this.#instanceId} could not be published to the shared store (${reason}); they are in this instance's audit log, but the live activity view across instances misses them`,
    );
    this.#unpublished = 0;
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    const missed = this.#unpublished ? ` (${this.#unpublished} more were not)` : '';
    this.#unpublished = 0;
    this.#lastWarnAt = -Infinity;
    this.#logger.info(
      `Audit records of instance ${this.#instanceId} are published to the shared store again${missed}`,
    );
  }
}
