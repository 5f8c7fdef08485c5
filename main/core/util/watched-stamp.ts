import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileStamp } from './file-stamp.ts';

/** How long a stamp is trusted when the file system has said nothing: the bound on a missed change. */
export const STAMP_MAX_AGE_MS = 250;

/** Settings of a WatchedStamp; tests turn the watch off and drive the clock. */
export interface WatchedStampOptions {
  maxAgeMs?: number;
  /** Watch the file's directory for changes (default on). */
  watch?: boolean;
  /** A monotonic clock in ms. */
  now?: () => number;
}

/**
 * A file's stamp (see fileStamp), kept in memory so that readers on the hot path make no system
 * call. It is looked up again when a watch on the file's directory reports the file changed
 * (a watch on the directory survives atomic renames), when the owner says it changed
 * (`invalidate`, after its own write or when another process tells it), and in any case once
 * it is older than `maxAgeMs`, for file systems whose watch says nothing. So a change made by
 * another process shows at once where the watch works, and within `maxAgeMs` at worst.
 */
export class WatchedStamp {
  readonly path: string;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #watch: boolean;
  #stamp = 'none';
  #checkedAt = Number.NEGATIVE_INFINITY;
  #unwatch: (() => void) | undefined;

  constructor(path: string, options: WatchedStampOptions = {}) {
    this.path = path;
    this.#maxAgeMs = options.maxAgeMs ?? STAMP_MAX_AGE_MS;
    this.#now = options.now ?? (() => performance.now());
    this.#watch = options.watch ?? true;
  }

  /** The file's stamp as last looked up, looked up again when it may have changed. */
  current(): string {
    const now = this.#now();
    if (now - this.#checkedAt < this.#maxAgeMs) return this.#stamp;
    // Watch first, then look: a change after the look is then always reported.
    if (this.#watch && !this.#unwatch) this.#unwatch = watchFile(this);
    this.#stamp = fileStamp(this.path);
    this.#checkedAt = now;
    return this.#stamp;
  }

  /** The file changed (or may have): the next `current()` looks it up. */
  invalidate(): void {
    this.#checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** Stops watching; `current()` then looks the file up at most every `maxAgeMs`. */
  close(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
  }
}

/** One watch per directory, shared by the stamps of the files in it. */
interface DirectoryWatch {
  watcher: FSWatcher;
  /** The stamps of each file name, held weakly: a store that is dropped needs no close(). */
  files: Map<string, Set<WeakRef<WatchedStamp>>>;
}

const directories = new Map<string, DirectoryWatch>();
const dropped = new FinalizationRegistry<{ dir: string; name: string; ref: WeakRef<WatchedStamp> }>(
  ({ dir, name, ref }) => forget(dir, name, ref),
);

/** Watches `stamp`'s file through its directory; returns how to stop, or undefined when it cannot be watched. */
function watchFile(stamp: WatchedStamp): (() => void) | undefined {
  const dir = dirname(stamp.path);
  const name = basename(stamp.path);
  let entry = directories.get(dir);
  if (!entry) {
    let watcher: FSWatcher;
    try {
      // Not persistent: a watch never keeps the process alive.
      watcher = watch(dir, { persistent: false });
    } catch {
      return undefined;
    }
    const created: DirectoryWatch = { watcher, files: new Map() };
    watcher.on('change', (_event, filename) => {
      const changed = filename === null ? undefined : String(filename);
      const sets =
        changed === undefined ? [...created.files.values()] : [created.files.get(changed)];
      for (const set of sets) for (const ref of set ?? []) ref.deref()?.invalidate();
    });
    // The directory went away, or the system refused: its stamps fall back to their bound.
    watcher.on('error', () => {
      watcher.close();
      if (directories.get(dir) === created) directories.delete(dir);
    });
    directories.set(dir, created);
    entry = created;
  }
  const ref = new WeakRef(stamp);
  let set = entry.files.get(name);
  if (!set) entry.files.set(name, (set = new Set()));
  set.add(ref);
  const token = {};
  dropped.register(stamp, { dir, name, ref }, token);
  return () => {
    dropped.unregister(token);
    forget(dir, name, ref);
  };
}

function forget(dir: string, name: string, ref: WeakRef<WatchedStamp>): void {
  const entry = directories.get(dir);
  const set = entry?.files.get(name);
  if (!entry || !set) return;
  set.delete(ref);
  if (set.size === 0) entry.files.delete(name);
  if (entry.files.size === 0) {
    entry.watcher.close();
    directories.delete(dir);
  }
}
