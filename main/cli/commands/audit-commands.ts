import type { Command } from 'commander';
import { followAudit, readAudit, verifyAudit } from '../../core/audit/audit-reader.ts';
import type { AuditRecord } from '../../core/audit/audit-types.ts';
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
    .description('check the hash chain of every record; names the first bad one')
    .option('--json', 'a JSON event on stdout')
    .action((opts: { json?: boolean }) =>
      run(opts, async (ctx, out) => {
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
