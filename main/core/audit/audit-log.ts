import { ftruncateSync, writeSync } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../util/logger.ts';
import { describeError, ValetError } from '../util/valet-error.ts';
import { ACTIVE_FILE, auditFiles, formatRecord, rotatedName } from './audit-file.ts';
import { lockAuditDir, type LockRetries } from './audit-lock.ts';
import { findTail } from './audit-repair.ts';
import { planPrune, type AuditRetention } from './audit-retention.ts';
import type { AuditEvent, AuditRecord, AuditStamp } from './audit-types.ts';

export { AuditBusyError } from './audit-lock.ts';

/** Writes bytes to an open file and says how many were written: `fs.writeSync` unless a test makes the disk fail. */
export type WriteBytes = (fd: number, data: Buffer, offset: number) => number;

/** Settings for the audit log. */
export interface AuditLogOptions {
  /** Rotate the active file when it would pass this size. */
  maxFileBytes?: number;
  /** Group commit: appended records reach the disk (fsync) within this time. */
  fsyncIntervalMs?: number;
  /** How much of the log to keep; checked at start and at each rotation. */
  retention?: AuditRetention;
  write?: WriteBytes;
  logger?: Logger;
  /**
   * Write the chain into the given folder itself, as a folder set aside for the audit log
   * (VALET_AUDIT_DIR) wants, instead of its `audit` subfolder, as a data dir wants.
   */
  exactDir?: boolean;
}

interface Queued {
  /** Undefined for a look at the log's end only (repairing it), with nothing new to write. */
  event: AuditEvent | undefined;
  resolve: (stamp: AuditStamp | undefined) => void;
  reject: (err: unknown) => void;
}

const SERVER_LOCK: LockRetries = { retries: 100, minTimeout: 20, maxTimeout: 100 };
const COMMAND_LOCK: LockRetries = { retries: 25, minTimeout: 10, maxTimeout: 50 };

/**
 * The append-only audit log: JSONL files in `<data dir>/audit`, owner-only, each record
 * chained to the one before by hash. An append resolves once the record has been written
 * to the file (it has reached the OS), so a killed process loses nothing a client saw;
 * fsync follows within `fsyncIntervalMs` (group commit). An append that cannot be written
 * rejects: callers fail closed. One process writes at a time, under a lock file: a server
 * holds it for its whole run; short commands take it per write.
 */
export class AuditLog extends EventEmitter<{ written: [AuditRecord] }> {
  readonly dir: string;
  readonly #maxFileBytes: number;
  readonly #fsyncIntervalMs: number;
  readonly #retention: AuditRetention;
  readonly #writeBytes: WriteBytes;
  readonly #logger: Logger;
  readonly #queue: Queued[] = [];
  #flushing = false;
  #exclusive: (() => Promise<void>) | undefined;
  #handle: FileHandle | undefined;
  #size = 0;
  #tail: { seq: number; hash: string } | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  #pruneDue = false;
  #wantExclusive = false;

  constructor(dataDir: string, options: AuditLogOptions = {}) {
    super();
    this.dir = options.exactDir ? dataDir : join(dataDir, 'audit');
    this.#maxFileBytes = options.maxFileBytes ?? 10 * 1024 * 1024;
    this.#fsyncIntervalMs = options.fsyncIntervalMs ?? 200;
    this.#retention = options.retention ?? {};
    this.#writeBytes = options.write ?? ((fd, data, offset) => writeSync(fd, data, offset));
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * Takes the log for this process's whole run (a server); appends then need no lock. At
   * once repairs a torn end a crash left, and prunes what the retention limits let go.
   */
  async holdExclusive(): Promise<void> {
    if (this.#exclusive) return;
    // Taken inside the write queue, so a write of this process already waiting for the
    // per-write lock never competes with it.
    this.#wantExclusive = true;
    await this.#enqueue(undefined);
  }

  /**
   * Appends a record; resolves with its number and time once it is written, rejects
   * (ValetError) when it could not be.
   */
  async append(event: AuditEvent): Promise<AuditStamp> {
    return (await this.#enqueue(event))!;
  }

  /** Writes what is queued, syncs it to disk, and lets go of the log. */
  async close(): Promise<void> {
    while (this.#flushing || this.#queue.length) await new Promise((r) => setImmediate(r));
    clearTimeout(this.#syncTimer);
    if (this.#handle) {
      await this.#handle.datasync().catch(() => undefined);
      await this.#handle.close();
      this.#handle = undefined;
    }
    const release = this.#exclusive;
    this.#exclusive = undefined;
    this.#wantExclusive = false;
    await release?.().catch(() => undefined);
  }

  #enqueue(event: AuditEvent | undefined): Promise<AuditStamp | undefined> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (this.#flushing) return;
      // Written once this turn of the event loop has queued what it has: calls answered
      // together share one write, and the next turn waits for nothing.
      this.#flushing = true;
      setImmediate(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0);
        const events = batch.flatMap((q) => (q.event ? [q.event] : []));
        try {
          let stamps: AuditStamp[];
          if (this.#wantExclusive && !this.#exclusive) await this.#takeExclusive();
          if (this.#exclusive) stamps = await this.#write(events);
          else {
            const release = await lockAuditDir(this.dir, COMMAND_LOCK, (err) =>
              this.#logger.warn(`the audit log lock was lost: ${describeError(err)}`),
            );
            try {
              this.#tail = undefined;
              stamps = await this.#write(events);
            } finally {
              await this.#closeHandle().catch(() => undefined);
              await release().catch(() => undefined);
            }
          }
          let next = 0;
          for (const q of batch) q.resolve(q.event ? stamps[next++] : undefined);
        } catch (err) {
          const failure = err instanceof ValetError ? err : this.#failure(err);
          for (const q of batch) q.reject(failure);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #takeExclusive(): Promise<void> {
    try {
      this.#exclusive = await lockAuditDir(this.dir, SERVER_LOCK, (err) => {
        // Our lock went stale (the process was suspended): go back to locking each write.
        this.#logger.error(
          `the audit log lock was lost (${describeError(err)}); writing with a lock per batch`,
        );
        this.#exclusive = undefined;
        this.#wantExclusive = false;
        this.#tail = undefined;
      });
    } catch (err) {
      this.#wantExclusive = false;
      throw err;
    }
    // At start: repair a torn end a crash left, and prune what the retention limits let go.
    this.#tail = undefined;
    this.#pruneDue = true;
  }

  #failure(err: unknown): ValetError {
    const code = (err as NodeJS.ErrnoException).code;
    const fix =
      code === 'ENOSPC' || code === 'EDQUOT'
        ? 'free disk space'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'make the folder writable by you'
          : 'check the disk';
    return new ValetError(
      'audit_failed',
      `The audit record could not be written to ${this.dir} (${describeError(err)}): ${fix}; until it can be, calls that need a record fail`,
      { cause: err },
    );
  }

  /** Writes the records; resolves with each one's stamp, in order. */
  async #write(events: AuditEvent[]): Promise<AuditStamp[]> {
    let written: { rotated: boolean; stamps: AuditStamp[] };
    try {
      written = await this.#writeBatch(events);
    } catch (err) {
      // Whatever reached the file, the next batch continues from what is really there.
      this.#tail = undefined;
      await this.#handle?.close().catch(() => undefined);
      this.#handle = undefined;
      throw err;
    }
    if (written.rotated || this.#pruneDue) {
      this.#pruneDue = false;
      await this.#prune();
    }
    return written.stamps;
  }

  /**
   * Writes the records (after the log_recovered records of a repaired end, if any); says
   * whether the active file was rotated on the way, and the stamps of `input`'s records.
   */
  async #writeBatch(input: AuditEvent[]): Promise<{ rotated: boolean; stamps: AuditStamp[] }> {
    let events = input;
    if (!this.#tail) {
      const found = await findTail(this.dir);
      if (found.recovered.length) {
        this.#logger.warn(
          `the audit log ended in a torn record (a crash); it was cut off and kept in ${found.recovered.map((r) => String(r.details?.quarantine)).join(', ')}`,
        );
        events = [...found.recovered, ...events];
      }
      this.#tail = { seq: found.seq, hash: found.hash };
    }
    if (!events.length) return { rotated: false, stamps: [] };
    let { seq, hash } = this.#tail;
    const follow = this.listenerCount('written') > 0;
    const records: AuditRecord[] = [];
    const stamps: AuditStamp[] = [];
    const firstOfInput = events.length - input.length;
    // Split the batch where a file would pass its size, so every file stays within it.
    let rotated = false;
    let chunk = '';
    let chunkBytes = 0;
    if (!this.#handle) await this.#openActive();
    for (const [i, event] of events.entries()) {
      const prev = hash;
      const formatted = formatRecord(event, ++seq, prev);
      hash = formatted.hash;
      if (i >= firstOfInput) stamps.push({ seq, time: formatted.time });
      if (follow) records.push({ seq, time: formatted.time, ...event, prev, hash });
      const line = `${formatted.line}\n`;
      const bytes = Buffer.byteLength(line, 'utf8');
      if (this.#size + chunkBytes > 0 && this.#size + chunkBytes + bytes > this.#maxFileBytes) {
        this.#writeChunk(chunk, chunkBytes);
        chunk = '';
        chunkBytes = 0;
        await this.#rotate();
        rotated = true;
      }
      chunk += line;
      chunkBytes += bytes;
    }
    this.#writeChunk(chunk, chunkBytes);
    this.#tail = { seq, hash };
    this.#scheduleSync();
    for (const record of records) this.emit('written', record);
    return { rotated, stamps };
  }

  async #openActive(): Promise<FileHandle> {
    if (!this.#handle) {
      this.#handle = await open(join(this.dir, ACTIVE_FILE), 'a', 0o600);
      this.#size = (await this.#handle.stat()).size;
    }
    return this.#handle;
  }

  async #rotate(): Promise<void> {
    const handle = await this.#openActive();
    await handle.datasync();
    await handle.close();
    this.#handle = undefined;
    await rename(join(this.dir, ACTIVE_FILE), rotatedName(this.dir, await auditFiles(this.dir)));
    await this.#openActive();
  }

  /**
   * One write per chunk: a record is either all there or not at all. A write that fails
   * half-way is cut back, so no torn line is left behind. The write is synchronous on
   * purpose: a few kilobytes into the page cache take microseconds, far less than a round
   * trip through the thread pool on every tool call; the fsync stays async.
   */
  #writeChunk(chunk: string, bytes: number): void {
    const handle = this.#handle;
    if (bytes === 0 || !handle) return;
    const data = Buffer.from(chunk, 'utf8');
    let written = 0;
    try {
      while (written < data.length) written += this.#writeBytes(handle.fd, data, written);
    } catch (err) {
      try {
        ftruncateSync(handle.fd, this.#size);
      } catch {
        // What is left is cut off as a torn end at the next start.
      }
      throw err;
    }
    this.#size += data.length;
  }

  /**
   * Prunes rotated files past the retention limits. The log_pruned record that names them
   * (and the boundary `audit verify` needs) is on disk before any file goes. A failure is
   * logged, not thrown: the records of the batch that got here are written.
   */
  async #prune(): Promise<void> {
    try {
      const plan = await planPrune(this.dir, this.#retention, Date.now(), this.#maxFileBytes);
      if (!plan.length) return;
      await this.#writeBatch([
        {
          type: 'log_pruned',
          outcome: 'ok',
          details: {
            files: plan,
            records: plan.reduce((n, p) => n + p.lastSeq - p.firstSeq + 1, 0),
            throughSeq: plan.at(-1)!.lastSeq,
          },
        },
      ]);
      await this.#handle?.datasync();
      for (const p of plan) await rm(join(this.dir, p.file), { force: true });
    } catch (err) {
      this.#tail = undefined;
      this.#logger.error(`could not prune old audit files: ${describeError(err)}`);
    }
  }

  async #closeHandle(): Promise<void> {
    clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    if (!this.#handle) return;
    const handle = this.#handle;
    this.#handle = undefined;
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  #scheduleSync(): void {
    if (this.#syncTimer || !this.#exclusive) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      this.#handle
        ?.datasync()
        .catch((err: unknown) => this.#logger.error(`audit fsync failed: ${describeError(err)}`));
    }, this.#fsyncIntervalMs);
    this.#syncTimer.unref();
  }
}

/** The size of the active audit file, for status. */
export async function activeAuditSize(dataDir: string): Promise<number> {
  return (await stat(join(dataDir, 'audit', ACTIVE_FILE)).catch(() => undefined))?.size ?? 0;
}
