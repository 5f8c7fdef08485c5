import { hostname } from 'node:os';
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { ValetError } from '../util/valet-error.ts';

/** Raised when another process (a running server) holds the log. */
export class AuditBusyError extends ValetError {
  constructor() {
    super('audit_busy', 'The audit log is held by a running MCP Valet');
  }
}

/** How long to keep trying for a lock that a live process holds. */
export interface LockRetries {
  retries: number;
  minTimeout: number;
  maxTimeout: number;
}

/** Who holds the lock: written beside it, since the lock itself (a directory) must stay empty. */
interface Owner {
  pid: number;
  host: string;
  /** The inode of the lock directory this owner made, so a note left by an earlier holder is never taken for the current one. */
  lock: number;
}

/** proper-lockfile counts a lock as stale after this long without its holder touching it. */
const STALE_MS = 10_000;

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but someone else's. Only ESRCH says it is gone.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function readOwner(file: string): Promise<Owner | undefined> {
  try {
    const owner = JSON.parse(await readFile(file, 'utf8')) as Partial<Owner>;
    if (
      typeof owner.pid === 'number' &&
      typeof owner.host === 'string' &&
      typeof owner.lock === 'number'
    )
      return owner as Owner;
  } catch {
    // No note, or half of one: the holder is unknown, so it is treated as alive.
  }
  return undefined;
}

/**
 * Marks the lock stale when its holder is known to be dead: a process on this machine, named
 * by the note beside this very lock directory, that no longer runs. proper-lockfile then takes
 * it over on the next try instead of waiting out the stale time. Returns whether it did.
 */
async function expireDeadHolder(lockDir: string, ownerFile: string): Promise<boolean> {
  const owner = await readOwner(ownerFile);
  if (!owner || owner.host !== hostname() || isAlive(owner.pid)) return false;
  const info = await stat(lockDir).catch(() => undefined);
  if (info?.ino !== owner.lock) return false;
  await utimes(lockDir, new Date(0), new Date(0)).catch(() => undefined);
  return true;
}

/**
 * Takes the lock of the audit directory. A lock whose holder was killed (no clean release)
 * is taken over at once; one held by a live process is waited for as `retries` says, then
 * refused with AuditBusyError. Resolves to the release function.
 */
export async function lockAuditDir(
  dir: string,
  retries: LockRetries,
  onCompromised: (err: Error) => void,
): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, 'lock');
  const lockDir = `${target}.lock`;
  const ownerFile = join(dir, 'lock.owner');
  await writeFile(target, '', { flag: 'a', mode: 0o600 });
  let takeovers = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      const release = await lockfile.lock(target, { stale: STALE_MS, onCompromised });
      const info = await stat(lockDir);
      const owner: Owner = { pid: process.pid, host: hostname(), lock: info.ino };
      // Without the note the lock still works; others then wait for it to go stale.
      await writeFileAtomic(ownerFile, JSON.stringify(owner)).catch(() => undefined);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      if (takeovers < 3 && (await expireDeadHolder(lockDir, ownerFile))) {
        takeovers++;
        continue;
      }
      if (attempt >= retries.retries) throw new AuditBusyError();
      const delay = Math.min(retries.maxTimeout, retries.minTimeout * 2 ** attempt);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
