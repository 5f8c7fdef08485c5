import { statSync } from 'node:fs';

/**
 * A cheap fingerprint of a file's current version (mtime, size, inode), or 'none' when it
 * does not exist. Readers compare stamps to see changes made by other processes. It is a
 * synchronous stat on purpose: it runs on every tool call, and a few microseconds of
 * blocking cost far less than a trip through the thread pool.
 */
export function fileStamp(path: string): string {
  try {
    const info = statSync(path);
    return `${info.mtimeMs}:${info.size}:${info.ino}`;
  } catch {
    return 'none';
  }
}
