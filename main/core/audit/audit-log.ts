import { writeSync } from 'node:fs';
import { mkdir, open, rename, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { silentLogger, type Logger } from '../util/logger.ts';
import { describeError, ValetError } from '../util/valet-error.ts';
import {
  ACTIVE_FILE,
  auditFiles,
  formatRecord,
  lastLine,
  parseLine,
  rotatedName,
} from './audit-file.ts';
import { GENESIS, type AuditEvent, type AuditRecord } from './audit-types.ts';

/** Settings for the audit log. */
export interface AuditLogOptions {
  /** Rotate the active file when it would pass this size. */
  maxFileBytes?: number;
  /** Group commit: appended records reach the disk (fsync) within this time. */
  fsyncIntervalMs?: number;
  logger?: Logger;
}

interface Queued {
  event: AuditEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Raised when another process (a running server) holds the log. */
export class AuditBusyError extends ValetError {
  constructor() {
    super('audit_busy', 'The audit log is held by a running MCP Valet');
  }
}

/**
 * The append-only audit log: JSONL files in `<data dir>/audit`, owner-only, each record
 * chained to the one before by hash. An append resolves once the record has been written
 * to the file (it has reached the OS), so a killed process loses nothing a client saw;
 * fsync follows within `fsyncIntervalMs` (group commit). One process writes at a time,
 * under a lock file: a server holds it for its whole run; short commands take it per write.
 */
export class AuditLog extends EventEmitter<{ written: [AuditRecord] }> {
  readonly dir: string;
  readonly #options: Required<Omit<AuditLogOptions, 'logger'>>;
  readonly #logger: Logger;
  readonly #queue: Queued[] = [];
  #flushing = false;
  #exclusive: (() => Promise<void>) | undefined;
  #handle: FileHandle | undefined;
  #size = 0;
  #tail: { seq: number; hash: string } | undefined;
  #syncTimer: NodeJS.Timeout | undefined;

  constructor(dataDir: string, options: AuditLogOptions = {}) {
    super();
    this.dir = join(dataDir, 'audit');
    this.#options = {
      maxFileBytes: options.maxFileBytes ?? 10 * 1024 * 1024,
      fsyncIntervalMs: options.fsyncIntervalMs ?? 200,
    };
    this.#logger = options.logger ?? silentLogger;
  }

  /** Takes the log for this process's whole run (a server); appends then need no lock. */
  async holdExclusive(): Promise<void> {
    if (this.#exclusive) return;
    const lock = await this.#lock({ retries: 100, minTimeout: 20, maxTimeout: 100 }, (err) => {
      // Our lock went stale (the process was suspended): go back to locking each write.
      this.#logger.error(
        `the audit log lock was lost (${describeError(err)}); writing with a lock per batch`,
      );
      this.#exclusive = undefined;
      this.#tail = undefined;
    });
    this.#exclusive = lock;
    this.#tail = undefined;
  }

  /** Appends a record; resolves when it is written. */
  append(event: AuditEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
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
    await release?.().catch(() => undefined);
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0);
        try {
          if (this.#exclusive) await this.#write(batch.map((q) => q.event));
          else {
            const release = await this.#lock({ retries: 25, minTimeout: 10, maxTimeout: 50 });
            try {
              this.#tail = undefined;
              await this.#write(batch.map((q) => q.event));
            } finally {
              await this.#closeHandle();
              await release();
            }
          }
          for (const q of batch) q.resolve();
        } catch (err) {
          for (const q of batch) q.reject(err);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #write(events: AuditEvent[]): Promise<void> {
    try {
      await this.#writeBatch(events);
    } catch (err) {
      // Whatever reached the file, the chain continues from what is really there.
      this.#tail = undefined;
      await this.#handle?.close().catch(() => undefined);
      this.#handle = undefined;
      throw err;
    }
  }

  async #writeBatch(events: AuditEvent[]): Promise<void> {
    const tail = this.#tail ?? (await this.#readTail());
    let { seq, hash } = tail;
    const lines: string[] = [];
    const records: AuditRecord[] = [];
    for (const event of events) {
      const formatted = formatRecord(event, ++seq, hash);
      lines.push(formatted.line);
      if (this.listenerCount('written')) records.push(JSON.parse(formatted.line) as AuditRecord);
      hash = formatted.hash;
    }
    // Split the batch where a file would pass its size, so every file stays within it.
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    await this.#openActive();
    for (const line of lines) {
      const bytes = Buffer.from(`${line}\n`, 'utf8');
      if (
        this.#size + chunkBytes > 0 &&
        this.#size + chunkBytes + bytes.length > this.#options.maxFileBytes
      ) {
        await this.#writeChunk(chunk, chunkBytes);
        chunk = [];
        chunkBytes = 0;
        await this.#rotate();
      }
      chunk.push(bytes);
      chunkBytes += bytes.length;
    }
    await this.#writeChunk(chunk, chunkBytes);
    this.#tail = { seq, hash };
    this.#scheduleSync();
    for (const record of records) this.emit('written', record);
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
   * One write per chunk: a record is either all there or not at all. The write is
   * synchronous on purpose: a few kilobytes into the page cache take microseconds, far less
   * than a round trip through the thread pool on every tool call; the fsync stays async.
   */
  async #writeChunk(chunk: Buffer[], bytes: number): Promise<void> {
    if (bytes === 0) return;
    const data = Buffer.concat(chunk, bytes);
    const { fd } = await this.#openActive();
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written);
    this.#size += data.length;
  }

  async #closeHandle(): Promise<void> {
    clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    if (!this.#handle) return;
    await this.#handle.datasync();
    await this.#handle.close();
    this.#handle = undefined;
  }

  #scheduleSync(): void {
    if (this.#syncTimer || !this.#exclusive) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      this.#handle
        ?.datasync()
        .catch((err: unknown) => this.#logger.error(`audit fsync failed: ${describeError(err)}`));
    }, this.#options.fsyncIntervalMs);
    this.#syncTimer.unref();
  }

  /** The last record across the files, so the chain continues across rotations and processes. */
  async #readTail(): Promise<{ seq: number; hash: string }> {
    const files = await auditFiles(this.dir);
    for (const file of files.reverse()) {
      const line = await lastLine(file);
      if (!line) continue;
      const parsed = parseLine(line);
      if (!parsed)
        throw new ValetError(
          'audit_damaged',
          `The last audit record in ${file} is damaged: run \`mcp-valet audit verify\``,
        );
      return { seq: parsed.record.seq, hash: parsed.record.hash };
    }
    return { seq: 0, hash: GENESIS };
  }

  async #lock(
    retries: { retries: number; minTimeout: number; maxTimeout: number },
    onCompromised?: (err: Error) => void,
  ): Promise<() => Promise<void>> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const lockTarget = join(this.dir, 'lock');
    await writeFile(lockTarget, '', { flag: 'a', mode: 0o600 });
    try {
      return await lockfile.lock(lockTarget, {
        retries,
        stale: 10_000,
        ...(onCompromised ? { onCompromised } : {}),
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOCKED') throw new AuditBusyError();
      throw err;
    }
  }
}

/** The size of the active audit file, for status. */
export async function activeAuditSize(dataDir: string): Promise<number> {
  return (await stat(join(dataDir, 'audit', ACTIVE_FILE)).catch(() => undefined))?.size ?? 0;
}
