// Benchmark child: the Activity view's chart on a large audit log. Writes about 100 MB of
// tool_call records spread over a year up to now (the log as a year of use leaves it, rotated
// at 10 MB, each record chained and stamped as the log writes them), then times the chart of
// the last hour, day and week, which read back only as far as their window, against a count
// of the same calls read through the whole log from the start. Prints one JSON line.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activityChart } from '../../main/core/app/activity-chart.ts';
import { ACTIVE_FILE, formatRecord, rotatedName } from '../../main/core/audit/audit-file.ts';
import { readAudit } from '../../main/core/audit/audit-reader.ts';
import { GENESIS } from '../../main/core/audit/audit-types.ts';
import { toolCallAudit } from '../../main/core/mcp/call-record.ts';
import { benchCall, timed } from './bench-calls.ts';

const TARGET_BYTES = 100 * 1024 * 1024;
const FILE_BYTES = 10 * 1024 * 1024;
const YEAR_MS = 365 * 24 * 3_600_000;

const dataDir = await mkdtemp(join(tmpdir(), 'valet-bench-chart-'));
const dir = join(dataDir, 'audit');
await mkdir(dir, { recursive: true });

// The size of one record decides how many there are, and so the time between two.
const sample = formatRecord(toolCallAudit(benchCall(1)), 1, GENESIS).line.length + 1;
const records = Math.ceil(TARGET_BYTES / sample);
const now = Date.now();
const start = now - YEAR_MS;
const step = YEAR_MS / records;
const written: string[] = [];
let chunk: string[] = [];
let chunkBytes = 0;
let prev = GENESIS;
let bytes = 0;
const writing = performance.now();
for (let i = 0; i < records; i++) {
  const formatted = formatRecord(
    toolCallAudit(benchCall(i)),
    i + 1,
    prev,
    new Date(start + i * step),
  );
  prev = formatted.hash;
  chunk.push(formatted.line);
  chunkBytes += Buffer.byteLength(formatted.line) + 1;
  if (chunkBytes >= FILE_BYTES) {
    const name = rotatedName(dir, written);
    await writeFile(name, `${chunk.join('\n')}\n`);
    written.push(name);
    bytes += chunkBytes;
    chunk = [];
    chunkBytes = 0;
  }
}
await writeFile(join(dir, ACTIVE_FILE), chunk.length ? `${chunk.join('\n')}\n` : '');
bytes += chunkBytes;
const writeSeconds = (performance.now() - writing) / 1000;

/** The window's calls counted through the whole log from its start. */
async function fullScanCount(minutes: number): Promise<number> {
  const from = Date.now() - minutes * 60_000;
  let calls = 0;
  for await (const record of readAudit(dir))
    if (record.type === 'tool_call' && Date.parse(record.time) >= from) calls++;
  return calls;
}

const total = (c: { allowed: number; denied: number; failed: number }) =>
  c.allowed + c.denied + c.failed;
const windows = [
  { name: 'last hour', minutes: 60, buckets: 30, runs: 200 },
  { name: 'last 24 hours', minutes: 1440, buckets: 48, runs: 50 },
  { name: 'last 7 days', minutes: 10_080, buckets: 84, runs: 10 },
];
const charts = [];
for (const w of windows) {
  const time = await timed(w.runs, () =>
    activityChart(dir, { minutes: w.minutes, buckets: w.buckets }),
  );
  const chart = await activityChart(dir, { minutes: w.minutes, buckets: w.buckets });
  charts.push({ name: w.name, calls: total(chart.totals), ...time });
}
const fullScan = await timed(2, () => fullScanCount(60));

await rm(dataDir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ log: { bytes, files: written.length + 1, records, writeSeconds }, charts, fullScan })}\n`,
);
