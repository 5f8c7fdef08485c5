import { hash as digest } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEvent, AuditRecord } from './audit-types.ts';

/** The file records are appended to; full ones are renamed to audit-000001.jsonl, -000002, … */
export const ACTIVE_FILE = 'audit.jsonl';
const ROTATED = /^audit-(\d{6})\.jsonl$/;

/** The log's files, oldest first, the active one last (if it exists). */
export async function auditFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const rotated = names.filter((n) => ROTATED.test(n)).sort();
  return [...rotated, ...(names.includes(ACTIVE_FILE) ? [ACTIVE_FILE] : [])].map((n) =>
    join(dir, n),
  );
}

/** The name the active file gets when it is rotated. */
export function rotatedName(dir: string, existing: string[]): string {
  const last = existing
    .map((f) => ROTATED.exec(f.split(/[\\/]/).pop() ?? '')?.[1])
    .filter(Boolean)
    .sort()
    .pop();
  return join(dir, `audit-${String(Number(last ?? 0) + 1).padStart(6, '0')}.jsonl`);
}

function sha256(text: string): string {
  return digest('sha256', text, 'hex');
}

/**
 * Serializes a record as one line. Its `hash` covers everything before it on the line,
 * exactly as written, so verifying needs no canonical form: any edited byte shows. The line
 * is what JSON.stringify makes of {seq, time, type, actor?, outcome, details?, prev, hash},
 * built piece by piece: it is made for every tool call.
 */
export function formatRecord(
  event: AuditEvent,
  seq: number,
  prev: string,
  time = new Date(),
): { line: string; hash: string; time: string } {
  const at = time.toISOString();
  let head = `{"seq":${JSON.stringify(seq)},"time":"${at}","type":${JSON.stringify(event.type)}`;
  if (event.actor) head += `,"actor":${JSON.stringify(event.actor)}`;
  head += `,"outcome":${JSON.stringify(event.outcome)}`;
  if (event.details) head += `,"details":${JSON.stringify(event.details)}`;
  head += `,"prev":${JSON.stringify(prev)}`;
  const hash = sha256(`${head}}`);
  return { line: `${head},"hash":"${hash}"}`, hash, time: at };
}

/** A record's line ends in its hash. */
const HASH_AT_END = /,"hash":"([0-9a-f]{64})"\}$/;

/**
 * The record on a line, as written, or undefined when the line is not one (torn, damaged).
 * Its hash is not checked: reading the log never hashes, only `audit verify` does.
 */
export function recordOf(line: string): AuditRecord | undefined {
  if (!HASH_AT_END.test(line)) return undefined;
  try {
    const record = JSON.parse(line) as unknown;
    return typeof record === 'object' && record !== null ? (record as AuditRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits a line into its record and whether its hash matches its content (`audit verify`). */
export function parseLine(line: string): { record: AuditRecord; intact: boolean } | undefined {
  const m = HASH_AT_END.exec(line);
  if (!m) return undefined;
  const record = recordOf(line);
  if (!record) return undefined;
  return { record, intact: sha256(`${line.slice(0, m.index)}}`) === m[1] };
}

/** The first line of a file, or undefined when it has none. */
export async function firstLine(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.toString('utf8', 0, bytesRead);
    const end = text.indexOf('\n');
    return end > 0 ? text.slice(0, end) : undefined;
  } finally {
    await handle.close();
  }
}

/** The last complete line of a file (read from its end), or undefined when it has none. */
export async function lastLine(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 256 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim());
    return lines.at(-1);
  } finally {
    await handle.close();
  }
}
