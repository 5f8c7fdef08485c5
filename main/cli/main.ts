import { Command, CommanderError } from 'commander';
import { registerApprovalCommands } from './commands/approval-commands.ts';
import { registerAuditCommands } from './commands/audit-commands.ts';
import { registerAuthCommands } from './commands/auth-commands.ts';
import { registerDemoCommand } from './commands/demo-command.ts';
import { registerKeyCommands } from './commands/key-commands.ts';
import { registerPolicyCommand } from './commands/policy-command.ts';
import { registerServeCommand } from './commands/serve-command.ts';
import { registerStdioCommand } from './commands/stdio-command.ts';
import { registerUiCommand } from './commands/ui-command.ts';
import type { CliContext } from './context.ts';
import type { FindOptions } from './find-instance.ts';
import { EXIT, Output, type CliIo } from './output.ts';

/** Runs one command's body with the core built and errors reported by the CLI contract. */
export type CommandRunner = (
  opts: { json?: boolean },
  body: (ctx: CliContext, out: Output) => Promise<void>,
  find?: FindOptions,
) => Promise<void>;

/** Runs the `mcp-valet` CLI and resolves to its exit code (0 ok, 1 failure, 2 usage). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const run: CommandRunner = async (opts, body, find) => {
    const out = new Output(io, Boolean(opts.json));
    try {
      // Loaded here, not at the top: `--help` and `stdio` must not pay for MSAL and the SDK server.
      const { createCliContext } = await import('./context.ts');
      const ctx = await createCliContext(io.env, out, find);
      try {
        await body(ctx, out);
      } finally {
        // Audit records of this command are written before the process ends.
        await ctx.core.close();
      }
    } catch (err) {
      exitCode = out.fail(err);
    }
  };

  const program = new Command('mcp-valet')
    .description(
      'Sign in to Microsoft Entra ID once; let local MCP clients use Microsoft Graph through revocable valet keys.',
    )
    .showHelpAfterError('(run `mcp-valet --help` for usage)')
    .exitOverride()
    // Options after a subcommand belong to it: `accounts use X --json` is the subcommand's --json.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerAuthCommands(program, run);
  registerServeCommand(program, run, io);
  registerUiCommand(program, run);
  registerKeyCommands(program, run, io, (code) => (exitCode = code));
  registerPolicyCommand(program, run);
  registerApprovalCommands(program, run);
  registerAuditCommands(program, run, (code) => (exitCode = code));
  registerStdioCommand(program, io, (code) => (exitCode = code));
  registerDemoCommand(program, io, (code) => (exitCode = code));

  if (argv.length === 0) {
    io.stderr.write(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    }
    return new Output(io, false).fail(err);
  }
  return exitCode;
}
