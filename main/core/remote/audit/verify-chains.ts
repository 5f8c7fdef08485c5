import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { auditFiles } from '../../audit/audit-file.ts';
import { verifyAudit, type AuditVerification } from '../../audit/audit-reader.ts';
import { ValetError } from '../../util/valet-error.ts';
import type { PublishedHead } from './activity-entry.ts';

/** One instance's audit chain to verify: its folder, and the instance that writes it. */
export interface ChainToVerify {
  dir: string;
  /** Needed to compare the chain with the head its instance published. */
  instance?: string;
}

/** How the chain compares with the head its instance published. */
export type HeadCheck =
  { ok: true; head: PublishedHead } | { ok: false; head: PublishedHead | null; reason: string };

/** The verdict on one chain: its own verification and, when asked for, its published head. */
export type ChainReport = ChainToVerify & {
  /** The folder the chain's files were found in (the dir, or its `audit` folder). */
  chainDir: string;
  verification: AuditVerification;
  head?: HeadCheck;
  ok: boolean;
};

/** Reads the head `instance` published; undefined when it published none. */
export type HeadReader = (instance: string) => Promise<PublishedHead | undefined>;

/**
 * Verifies each instance's chain on its own (hashes, order, pruning, as `audit verify` does for
 * the desktop's), and with `readHead`, compares it with the head its instance published: the
 * chain must hold that very record (same number, same hash). A chain that ends before it was
 * cut short after the head went out; one whose record differs was rewritten. No head at all
 * fails too: it cannot vouch for the chain.
 */
export async function verifyChains(
  chains: readonly ChainToVerify[],
  readHead?: HeadReader,
): Promise<ChainReport[]> {
  const reports: ChainReport[] = [];
  for (const chain of chains) {
    const chainDir = await chainFolder(chain.dir);
    const published =
      readHead && chain.instance !== undefined ? await readHead(chain.instance) : undefined;
    let seen: { seq: number; hash: string } | undefined;
    let oldest: number | undefined;
    const verification = await verifyAudit(chainDir, {
      onRecord: (record) => {
        oldest ??= record.seq;
        if (record.seq === published?.seq) seen = { seq: record.seq, hash: record.hash };
      },
    });
    const report: ChainReport = { ...chain, chainDir, verification, ok: verification.ok };
    if (readHead && chain.instance !== undefined && verification.ok) {
      report.head = compare(chain.instance, verification, published, seen, oldest);
      report.ok = report.head.ok;
    }
    reports.push(report);
  }
  return reports;
}

function compare(
  instance: string,
  verification: Extract<AuditVerification, { ok: true }>,
  head: PublishedHead | undefined,
  seen: { seq: number; hash: string } | undefined,
  oldest: number | undefined,
): HeadCheck {
  if (!head)
    return {
      ok: false,
      head: null,
      reason: `instance ${instance} has published no chain head: it has not written a record since this Redis started, or its instance ID or VALET_REDIS_PREFIX is not the one given here`,
    };
  const last = verification.last?.seq ?? 0;
  if (head.seq > last)
    return {
      ok: false,
      head,
      reason:
        last === 0
          ? `the chain is empty, but instance ${instance} published record ${head.seq} as its head: its records were deleted`
          : `the chain ends at record ${last}, but instance ${instance} published record ${head.seq} as its head: ${head.seq === last + 1 ? `record ${head.seq} was` : `records ${last + 1}–${head.seq} were`} cut off`,
    };
  if (oldest !== undefined && head.seq < oldest)
    return {
      ok: false,
      head,
      reason: `record ${head.seq}, the head instance ${instance} published, is older than the oldest record kept (${oldest}): the chain cannot be checked against it, and the instance has published nothing newer`,
    };
  if (seen?.hash !== head.hash)
    return {
      ok: false,
      head,
      reason: `record ${head.seq} is not the record instance ${instance} published as its head (its hash differs): the chain was rewritten from there`,
    };
  return { ok: true, head };
}

// An instance ID as --instance-id takes it: it never holds `=`, so `<instance>=<folder>` splits once.
const NAMED = /^([A-Za-z0-9][A-Za-z0-9._-]{0,62})=(.+)$/;

/**
 * The chains of `audit verify --dir [<instance>=]<folder> …`. Comparing with published heads
 * (`withHeads`) needs every chain's instance, and no instance twice. Throws a `usage`
 * ValetError naming the fix.
 */
export function parseChains(values: readonly string[], withHeads: boolean): ChainToVerify[] {
  if (values.length === 0)
    throw new ValetError(
      'usage',
      '--redis checks the chains given with --dir: add --dir <instance>=<folder> for each instance',
    );
  const chains = values.map((value): ChainToVerify => {
    const named = NAMED.exec(value);
    return named ? { instance: named[1]!, dir: resolve(named[2]!) } : { dir: resolve(value) };
  });
  const seen = new Set<string>();
  for (const { instance, dir } of chains) {
    if (withHeads && instance === undefined)
      throw new ValetError(
        'usage',
        `--redis compares each chain with the head its instance published: name the instance writing ${dir} as --dir <instance-id>=${dir}`,
      );
    if (instance !== undefined && seen.has(instance))
      throw new ValetError(
        'usage',
        `Instance ${instance} is named for two --dir folders: each instance writes one chain; give each --dir its own instance ID`,
      );
    if (instance !== undefined) seen.add(instance);
  }
  return chains;
}

/** One line on a chain's verdict, for a person. */
export function chainVerdict({ verification: v, head, chainDir }: ChainReport): string {
  if (!v.ok) {
    const { file, line, seq, reason } = v.bad;
    return `tampered with or damaged: record ${seq ?? '?'} (${file} line ${line} in ${chainDir}) ${reason}. The ${v.records} records before it are intact.`;
  }
  if (head && !head.ok)
    return `does not match the head its instance published: ${head.reason}. (The ${v.records} records left in ${chainDir} chain together.)`;
  const intact =
    v.records === 0 || !v.first || !v.last
      ? `intact but empty (${chainDir})`
      : `intact: ${v.records} records (${v.first.seq}–${v.last.seq}) in ${chainDir}, the last one's hash ${v.last.hash.slice(0, 16)}…`;
  return head
    ? `${intact}; it holds record ${head.head.seq}, the head its instance published.`
    : `${intact}.`;
}

/** The folder holding the chain: `dir` itself, or the `audit` folder of a data dir. */
async function chainFolder(dir: string): Promise<string> {
  const found = await stat(dir).catch(() => undefined);
  if (!found?.isDirectory())
    throw new ValetError(
      'audit_dir_missing',
      `There is no audit chain folder at ${dir}: give --dir the folder an instance writes its chain to (VALET_AUDIT_DIR), or its data dir.`,
    );
  if ((await auditFiles(dir)).length > 0) return dir;
  const inDataDir = join(dir, 'audit');
  return (await auditFiles(inDataDir)).length > 0 ? inDataDir : dir;
}
