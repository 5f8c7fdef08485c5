import type { Command } from 'commander';
import {
  approvalDecisionSchema,
  MAX_WINDOW_MINUTES,
} from '../../core/approvals/approval-decision.ts';
import type { PendingApproval } from '../../core/approvals/approval-service.ts';
import { ValetError } from '../../core/util/valet-error.ts';
import { callControl } from '../control-client.ts';
import type { CommandRunner } from '../main.ts';

/** Registers `approvals list`, `approvals approve <id>` and `approvals deny <id>` (headless decisions). */
export function registerApprovalCommands(program: Command, run: CommandRunner): void {
  const approvals = program
    .command('approvals')
    .description('risky calls waiting for your decision (headless)')
    .enablePositionalOptions();
  approvals
    .command('list')
    .description('list the calls waiting for approval, with what they will do')
    .option('--json', 'a JSON event on stdout')
    .action((opts: { json?: boolean }) =>
      run(opts, async (ctx, out) => {
        const { approvals: pending } = await callControl<{ approvals: PendingApproval[] }>(
          ctx.config.dataDir,
          'GET',
          '/control/approvals',
        );
        out.event({ event: 'approvals', approvals: pending });
        if (pending.length === 0) out.say('Nothing is waiting for approval.');
        for (const a of pending) {
          out.say(`${a.id}  ${a.action} (${a.tool}) for ${a.account}`);
          out.say(
            `    asked by key '${a.key.name}'${a.client ? ` from ${a.client.name} ${a.client.version}` : ''}; waits until ${a.expiresAt}`,
          );
          for (const line of a.summary)
            out.say(`    ${line.label}: ${line.value.replace(/\n/g, '\n      ')}`);
        }
      }),
    );
  approvals
    .command('approve <id>')
    .description('approve a waiting call once, or this tool for this key for some minutes')
    .option(
      '--minutes <n>',
      `approve this tool for this key for N minutes (1–${MAX_WINDOW_MINUTES})`,
    )
    .option('--json', 'a JSON event on stdout')
    .action((id: string, opts: { minutes?: string; json?: boolean }) =>
      run(opts, async (ctx, out) => {
        // The same schema the running server checks the decision with.
        const parsed = approvalDecisionSchema.safeParse(
          opts.minutes === undefined
            ? { kind: 'once' }
            : { kind: 'window', minutes: Number(opts.minutes) },
        );
        if (!parsed.success)
          throw new ValetError(
            'usage',
            `--minutes ${opts.minutes} ${parsed.error.issues[0]?.message ?? 'is not valid'}`,
          );
        const decision = parsed.data;
        const minutes = decision.kind === 'window' ? decision.minutes : undefined;
        const { decided } = await callControl<{ decided: { tool: string; key: { name: string } } }>(
          ctx.config.dataDir,
          'POST',
          `/control/approvals/${encodeURIComponent(id)}`,
          decision,
        );
        out.event({ event: 'approval_decided', id, decision });
        out.say(
          `Approved ${decided.tool} for key '${decided.key.name}'${minutes ? `, and for the next ${minutes} minutes` : ' once'}.`,
        );
      }),
    );
  approvals
    .command('deny <id>')
    .description('deny a waiting call')
    .option('--json', 'a JSON event on stdout')
    .action((id: string, opts: { json?: boolean }) =>
      run(opts, async (ctx, out) => {
        const { decided } = await callControl<{ decided: { tool: string; key: { name: string } } }>(
          ctx.config.dataDir,
          'POST',
          `/control/approvals/${encodeURIComponent(id)}`,
          { kind: 'deny' },
        );
        out.event({ event: 'approval_decided', id, decision: { kind: 'deny' } });
        out.say(`Denied ${decided.tool} for key '${decided.key.name}'.`);
      }),
    );
}
