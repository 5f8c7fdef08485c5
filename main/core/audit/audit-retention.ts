import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ACTIVE_FILE, auditFiles, firstLine, lastLine, recordOf } from './audit-file.ts';

/** How much of the log to keep. Files past a limit are pruned, oldest first; 0 means no limit. */
export interface AuditRetention {
  /** All audit files together stay within about this size (one file is the unit). */
  maxBytes?: number;
  /** Files whose newest record is older than this are pruned. */
  maxAgeMs?: number;
}

/**
 * A rotated file to prune, with the link `audit verify` needs: the record after the last one
 * pruned is accepted as the log's first only when a log_pruned record names this boundary.
 */
export interface PrunedFile {
  file: string;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
}

/**
 * The rotated files to prune, oldest first, while the log is over a limit (the active file
 * counted as full). Never the active
 * file, never the newest file with records in it (it holds the head of the chain), and never
 * past a file whose records cannot be read (`audit verify` has to name it).
 */
export async function planPrune(
  dir: string,
  retention: AuditRetention,
  now: number,
  maxFileBytes: number,
): Promise<PrunedFile[]> {
  const maxBytes = retention.maxBytes ?? 0;
  const maxAgeMs = retention.maxAgeMs ?? 0;
  if (maxBytes <= 0 && maxAgeMs <= 0) return [];
  const files = await auditFiles(dir);
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  // The active file is counted as full: it grows to that before the next look.
  let total = files.reduce(
    (sum, f, i) => sum + (basename(f) === ACTIVE_FILE ? maxFileBytes : sizes[i]!),
    0,
  );
  let head = files.length - 1;
  while (head > 0 && sizes[head] === 0) head--;
  const plan: PrunedFile[] = [];
  for (let i = 0; i < head; i++) {
    const file = files[i]!;
    if (basename(file) === ACTIVE_FILE) break;
    if (sizes[i] === 0) continue;
    const last = recordOf((await lastLine(file)) ?? '');
    const first = recordOf((await firstLine(file)) ?? '');
    if (!last || !first) break;
    const tooBig = maxBytes > 0 && total > maxBytes;
    const tooOld = maxAgeMs > 0 && Date.parse(last.time) < now - maxAgeMs;
    if (!tooBig && !tooOld) break;
    plan.push({
      file: basename(file),
      firstSeq: first.seq,
      lastSeq: last.seq,
      lastHash: last.hash,
    });
    total -= sizes[i]!;
  }
  return plan;
}
