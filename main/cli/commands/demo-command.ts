import type { Command } from 'commander';
import { Output, type CliIo } from '../output.ts';
/** Registers `demo`: the whole product against a built-in tenant, no Entra needed. */
export function registerDemoCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('demo')
    .description(
      'start a built-in Entra-like sign-in and Graph stand-in, sign in a demo user, and serve: the whole app with no tenant',
    )
    .option('--port <n>', 'port for the MCP endpoint; default VALET_PORT or 47652')
    .option('--ui', 'also serve the window to a browser (and open it)')
    .option('--json', 'newline-delimited JSON events on stdout (demo, ready, tool_call, stopped)')
    .action(async (opts: { port?: string; ui?: boolean; json?: boolean }) => {
      const out = new Output(io, Boolean(opts.json));
      try {
        // The demo tenant (oidc-provider, certificates) loads only when the demo runs.
        const { runDemo } = await import('./demo-run.ts');
        setExit(
          await runDemo(io, out, {
            ...(opts.port !== undefined ? { port: opts.port } : {}),
            ui: Boolean(opts.ui),
          }),
        );
      } catch (err) {
        setExit(out.fail(err));
      }
    });
}
