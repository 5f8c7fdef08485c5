// Benchmark child: the Activity view's pages on a large audit log. Writes about 100 MB of
// tool_call records (the log as a year of use leaves it, rotated at 10 MB), then times the
// first page and later ones the way the window asks for them, against the way pages were
// served before: every line of every file read from the start and hashed. Prints one JSON line.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { activityPage, type ActivityQuery } from '../../main/core/app/activity.ts';
import { auditFiles, parseLine } from '../../main/core/audit/audit-file.ts';
import { AuditLog } from '../../main/core/audit/audit-log.ts';
import type { AuditRecord } from '../../main/core/audit/audit-types.ts';
import { toolCallAudit } from '../../main/core/mcp/call-record.ts';
import { benchCall, timed } from './bench-calls.ts';

const TARGET_BYTES = 100 * 1024 * 1024;

const dataDir = await mkdtemp(join(tmpdir(), 'valet-bench-activity-'));
const dir = join(dataDir, 'audit');
const log = new AuditLog(dataDir, { fsyncIntervalMs: 1000 });
await log.holdExclusive();
const writing = performance.now();
let written = 0;
let records = 0;
while (written < TARGET_BYTES) {
  await Promise.all(
    Array.from({ length: 1000 }, (_, j) => log.append(toolCallAudit(benchCall(records + j)))),
  );
  records += 1000;
  if (records % 10_000 === 0) {
    const sizes = await Promise.all((await auditFiles(dir)).map(async (f) => (await stat(f)).size));
    written = sizes.reduce((a, b) => a + b, 0);
  }
}
await log.close();
const files = await auditFiles(dir);
const bytes = (await Promise.all(files.map(async (f) => (await stat(f)).size))).reduce(
  (a, b) => a + b,
  0,
);
const writeSeconds = (performance.now() - writing) / 1000;

/** Every record from the start, each line's hash checked, as the log was read for pages before. */
async function* hashedRecords(): AsyncGenerator<AuditRecord> {
  for (const file of await auditFiles(dir)) {
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      const parsed = line.trim() ? parseLine(line) : undefined;
      if (parsed) yield parsed.record;
    }
  }
}

/** A page the way the window was served before: a full read from the start, every line hashed. */
async function fullScanPage(query: ActivityQuery) {
  const { before, limit = 50, keyName, tool, outcome } = query;
  const matching: Array<{ seq: number }> = [];
  for await (const r of hashedRecords()) {
    if (r.type !== 'tool_call' || (before !== undefined && r.seq >= before)) continue;
    const d = r.details ?? {};
    if (
      (keyName && r.actor?.keyName !== keyName) ||
      (tool && d.tool !== tool) ||
      (outcome && r.outcome !== outcome)
    )
      continue;
    matching.push({ seq: r.seq });
  }
  const items = matching.reverse().slice(0, limit);
  return { items, nextBefore: matching.length > limit ? items[items.length - 1]!.seq : null };
}

const firstPage = await timed(200, () => activityPage(dir, { limit: 50 }));
const page1 = await activityPage(dir, { limit: 50 });
const nextPage = await timed(200, () =>
  activityPage(dir, { limit: 50, before: page1.nextBefore! }),
);
// Deep in the oldest file: the cursor is found by bisection, not by reading back to it.
const deepPage = await timed(200, () => activityPage(dir, { limit: 50, before: 1_000 }));
const filtered = await timed(50, () =>
  activityPage(dir, { limit: 50, keyName: 'agent', outcome: 'denied' }),
);
const before = await timed(2, () => fullScanPage({ limit: 50 }));

// The two ways agree on the page.
const same =
  JSON.stringify((await fullScanPage({ limit: 50 })).items.map((i) => i.seq)) ===
  JSON.stringify(page1.items.map((i) => i.seq));

await rm(dataDir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ log: { bytes, files: files.length, records, writeSeconds }, firstPage, nextPage, deepPage, filtered, fullScan: before, same })}\n`,
);
