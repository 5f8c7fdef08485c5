// The Electron main process entry (package.json "main"). No top-level await here: Electron
// emits `ready` only once this module has finished evaluating, and startDesktopApp waits for
// `ready`, so awaiting it at the top level would hang the app.
// First of all, before the app loads: V8's heap limits (imports evaluate in order).
import '../core/util/heap-limits.ts';
import { app } from 'electron';
import { describeError } from '../core/util/valet-error.ts';
import { startDesktopApp } from './desktop-app.ts';

/** The arguments after the executable (and, from a checkout, after the app's folder). */
function userArgs(): string[] {
  return process.argv.slice(app.isPackaged ? 1 : 2);
}

async function runStdio(): Promise<void> {
  // Claude Desktop starts the app as its stdio bridge: no window, no tray, no single-instance
  // lock; just the CLI's `stdio` command, forwarding to the running app's endpoint.
  app.dock?.hide();
  const { runCli } = await import('../cli/main.ts');
  const code = await runCli(['stdio'], {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
  app.exit(code);
}

const started = userArgs()[0] === 'stdio' ? runStdio() : startDesktopApp();
started.catch((err: unknown) => {
  process.stderr.write(`MCP Valet could not start: ${describeError(err)}\n`);
  app.exit(1);
});
