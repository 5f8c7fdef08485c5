import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../util/atomic-file.ts';

const infoSchema = z.object({
  url: z.string(),
  pid: z.number(),
  startedAt: z.string(),
  controlToken: z.string().optional(),
  /** The window in a browser (`serve --ui`): where `mcp-valet ui` asks for a new link. */
  ui: z.object({ origin: z.string() }).optional(),
});

/** Where a running endpoint says it is, so `status` and `stdio` can find it. */
export type EndpointInfo = z.infer<typeof infoSchema>;

function infoPath(dataDir: string): string {
  return join(dataDir, 'endpoint.json');
}

/** Records the running endpoint and its control token (owner-only file in the data dir). */
export async function writeEndpointInfo(
  dataDir: string,
  url: string,
  controlToken: string,
): Promise<void> {
  await writeFileAtomic(
    infoPath(dataDir),
    `${JSON.stringify({ url, pid: process.pid, startedAt: new Date().toISOString(), controlToken })}\n`,
  );
}

/**
 * Adds the window's origin to this process's record, so `mcp-valet ui` can find it. The
 * record keeps everything else it says; one of another process is left alone.
 */
export async function recordWebUi(dataDir: string, origin: string): Promise<boolean> {
  const text = await readFileIfExists(infoPath(dataDir));
  const record = text === undefined ? undefined : parseJson(text);
  if (!isObject(record) || record.pid !== process.pid) return false;
  await writeFileAtomic(infoPath(dataDir), `${JSON.stringify({ ...record, ui: { origin } })}\n`);
  return true;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Removes the record, if it is this process's. */
export async function removeEndpointInfo(dataDir: string): Promise<void> {
  const info = await readEndpointInfo(dataDir, { includeStale: true });
  if (info?.pid === process.pid) await rm(infoPath(dataDir), { force: true });
}

/** The running endpoint, or undefined when none runs (a record left by a dead process is ignored). */
export async function readEndpointInfo(
  dataDir: string,
  options: { includeStale?: boolean } = {},
): Promise<EndpointInfo | undefined> {
  const text = await readFileIfExists(infoPath(dataDir));
  if (!text) return undefined;
  const parsed = infoSchema.safeParse(parseJson(text));
  if (!parsed.success) return undefined;
  if (options.includeStale) return parsed.data;
  try {
    process.kill(parsed.data.pid, 0);
    return parsed.data;
  } catch (err) {
    // EPERM: alive but someone else's; ESRCH: gone.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? parsed.data : undefined;
  }
}
