import type { Command } from 'commander';
import { ValetError } from '../../core/util/valet-error.ts';
import { Output, type CliIo } from '../output.ts';
import type { runDemo, runRemoteDemo } from './demo-run.ts';

/**
 * Loads the demo's runner. The demo tenant (oidc-provider, certificates) loads only when the
 * demo runs, and the desktop installer leaves it out with the packages only it needs.
 */
async function loadDemo(): Promise<{
  runDemo: typeof runDemo;
  runRemoteDemo: typeof runRemoteDemo;
}> {
  try {
    return await import('./demo-run.ts');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new ValetError(
      'demo_unavailable',
      'The demo is not part of this installation: the desktop app leaves out the demo tenant and the packages only it needs. Run it from a checkout of MCP Valet: .ci/setup, then npx mcp-valet demo.',
      { cause: err },
    );
  }
}

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
    .option(
      '--port <n>',
      'port for the MCP endpoint; default VALET_PORT or 47652 (with --remote: a free one)',
    )
    .option('--ui', 'also serve the window to a browser (and open it)')
    .option(
      '--remote',
      'run the team server instead: https://localhost with OAuth sign-in for MCP clients',
    )
    .option('--json', 'newline-delimited JSON events on stdout (demo, ready, tool_call, stopped)')
    .action(async (opts: { port?: string; ui?: boolean; remote?: boolean; json?: boolean }) => {
      const out = new Output(io, Boolean(opts.json));
      try {
        const { runDemo, runRemoteDemo } = await loadDemo();
        if (opts.remote) {
          if (opts.ui)
            throw new ValetError(
              'usage',
              '--ui is for the local demo: the team server has its own page, where users sign in',
            );
          setExit(await runRemoteDemo(io, out, opts.port !== undefined ? { port: opts.port } : {}));
          return;
        }
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
