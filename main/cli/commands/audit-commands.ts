import type { Command } from 'commander';
import { followAudit, readAudit, verifyAudit } from '../../core/audit/audit-reader.ts';
import type { AuditRecord } from '../../core/audit/audit-types.ts';
import { auditHeadKey, headOf } from '../../core/remote/audit/activity-entry.ts';
import {
  chainVerdict,
  parseChains,
  verifyChains,
  type ChainToVerify,
  type HeadReader,
} from '../../core/remote/audit/verify-chains.ts';
import type { CommandRunner } from '../main.ts';
import type { Output } from '../output.ts';
import { stopSignal } from '../stop-signal.ts';

/** Registers `audit [--follow]` and `audit verify`. */
export function registerAuditCommands(
  program: Command,
  run: CommandRunner,
  setExit: (code: number) => void,
): void {
  const audit = program
    .command('audit')
    .description(
      'read the audit log (`audit verify` checks that nothing was edited, deleted or reordered)',
    )
    .option('--follow', 'keep printing new records as they are written')
    .option('--json', 'one JSON event per record on stdout')
    .enablePositionalOptions()
    .action((opts: { follow?: boolean; json?: boolean }) =>
      run(opts, async (ctx, out) => {
        const dir = ctx.core.audit.dir;
        let last = 0;
        for await (const record of readAudit(dir)) {
          print(out, record);
          last = record.seq;
        }
        if (last === 0 && !opts.follow) out.say('The audit log is empty.');
        if (opts.follow) {
          const stop = new AbortController();
          void stopSignal(out).then(() => stop.abort());
          await followAudit(dir, last, (record) => print(out, record), stop.signal);
        }
      }),
    );
  audit
    .command('verify')
    .description(
      'check the hash chain of every record; names the first bad one. With --dir, checks the chains of team server instances instead, and with --redis also against the heads they published',
    )
    .option('--json', 'a JSON event on stdout')
    .option(
      '--dir <[instance=]folder>',
      "a team server instance's audit chain: its VALET_AUDIT_DIR or data dir, named by the instance's ID; repeat for each instance",
      (value: string, dirs: string[] | undefined) => [...(dirs ?? []), value],
    )
    .option(
      '--redis <url>',
      'with --dir: compare each chain with the head its instance published in this Redis (VALET_REDIS_PREFIX, default mv:)',
    )
    .action((opts: { json?: boolean; dir?: string[]; redis?: string }) =>
      run(opts, async (ctx, out) => {
        if (opts.dir !== undefined || opts.redis !== undefined) {
          const chains = parseChains(opts.dir ?? [], opts.redis !== undefined);
          const prefix = ctx.env.VALET_REDIS_PREFIX || undefined;
          if (!(await verifyInstanceChains(out, chains, opts.redis, prefix))) setExit(1);
          return;
        }
        const result = await verifyAudit(ctx.core.audit.dir);
        out.event({ event: 'audit_verified', ...result });
        if (result.ok) {
          const pruned =
            (result.first?.seq ?? 1) > 1
              ? ` Records before ${result.first?.seq} were pruned by the retention limit, as a log_pruned record says.`
              : '';
          out.say(
            result.records === 0
              ? 'The audit log is empty.'
              : `The audit log is intact: ${result.records} records, ${result.first?.time} to ${result.last?.time} (records ${result.first?.seq}–${result.last?.seq}).${pruned}`,
          );
        } else {
          const { file, line, seq, reason } = result.bad;
          out.say(
            `The audit log was tampered with or damaged: record ${seq ?? '?'} (${file} line ${line}) ${reason}. The ${result.records} records before it are intact.`,
          );
          setExit(1);
        }
      }),
    );
}

/**
 * `audit verify --dir …`: verifies each instance's chain, with --redis against the head it
 * published; one event and one line per chain. Resolves to whether every chain holds.
 */
async function verifyInstanceChains(
  out: Output,
  chains: ChainToVerify[],
  redisUrl: string | undefined,
  prefix: string | undefined,
): Promise<boolean> {
  let readHead: HeadReader | undefined;
  let close = async () => {};
  if (redisUrl !== undefined) {
    // Loaded only here: plain `audit verify` never needs a Redis client.
    const { openRedisStore } = await import('../../core/remote/store/redis-store.ts');
    const store = await openRedisStore({ url: redisUrl, ...(prefix ? { prefix } : {}) });
    readHead = async (instance) => headOf(await store.hGetAll(auditHeadKey(instance)));
    close = () => store.close();
  }
  try {
    const reports = await verifyChains(chains, readHead);
    for (const report of reports) {
      const { dir, instance, chainDir, verification, head, ok } = report;
      out.event({ event: 'audit_verified', dir: chainDir, instance, ...verification, head, ok });
      out.say(`${instance ?? dir}: ${chainVerdict(report)}`);
    }
    const bad = reports.filter((r) => !r.ok).length;
    out.say(
      bad === 0
        ? `All ${reports.length} audit chains are intact.`
        : `${bad} of ${reports.length} audit chains failed verification.`,
    );
    return bad === 0;
  } finally {
    await close();
  }
}

function print(out: Output, record: AuditRecord): void {
  out.event({ event: 'audit', record });
  const actor = [
    record.actor?.keyName && `key ${record.actor.keyName}`,
    record.actor?.account,
    record.actor?.client,
  ]
    .filter(Boolean)
    .join(', ');
  const details = record.details
    ? Object.entries(record.details)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ')
    : '';
  out.say(
    `${record.time}  ${String(record.seq).padStart(6)}  ${record.type.padEnd(18)} ${record.outcome.padEnd(12)} ${actor}${details ? `  ${details}` : ''}`,
  );
}
