import { statSync } from 'node:fs';

/**
 * A cheap fingerprint of a file's current version (mtime, size, inode), or 'none' when it
 * does not exist. Readers compare stamps to see changes made by other processes; on the hot
 * path they go through a WatchedStamp, which looks the file up only when it may have changed.
 * The stat is synchronous: a few microseconds of blocking cost less than a trip through the
 * thread pool.
 */
export function fileStamp(path: string): string {
  try {
    const info = statSync(path);
    return `${info.mtimeMs}:${info.size}:${info.ino}`;
  } catch {
    return 'none';
  }
}
