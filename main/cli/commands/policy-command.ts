import type { Command } from 'commander';
import type { CommandRunner } from '../main.ts';

/** Registers `policy`: the effective policy, as the running endpoint applies it. */
export function registerPolicyCommand(program: Command, run: CommandRunner): void {
  program
    .command('policy')
    .description(
      'show the effective policy: tools on or off, approvals, required app roles, rate limits',
    )
    .option('--json', 'a JSON event on stdout')
    .action((opts: { json?: boolean }) =>
      run(opts, async (ctx, out) => {
        const { tools, policy } = await ctx.core.effectivePolicy();
        out.event({
          event: 'policy',
          tools,
          approvalTimeoutSeconds: policy.approvalTimeoutSeconds,
          rateLimits: policy.rateLimits,
          file: ctx.config.configFile,
        });
        out.say(`Policy from ${ctx.config.configFile} (defaults where it says nothing)`);
        out.say('');
        out.say(
          `${'tool'.padEnd(18)}${'kind'.padEnd(7)}${'state'.padEnd(6)}${'approval'.padEnd(10)}app role`,
        );
        for (const t of tools) {
          out.say(
            `${t.tool.padEnd(18)}${t.kind.padEnd(7)}${(t.enabled ? 'on' : 'off').padEnd(6)}${(t.approval ? 'yes' : 'no').padEnd(10)}${t.requireRole ?? '-'}`,
          );
        }
        out.say('');
        out.say(`Approvals time out (deny) after ${policy.approvalTimeoutSeconds} s.`);
        const r = policy.rateLimits;
        out.say(
          `Rate limits: ${r.requestsPerMinute} requests/minute per key (bursts of ${r.burst}), ${r.concurrentPerKey} at once per key, ${r.concurrentTotal} at once in all.`,
        );
      }),
    );
}
