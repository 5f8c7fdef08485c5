// The Electron main process entry (package.json "main").
import { app } from 'electron';
import { startDesktopApp } from './desktop-app.ts';

/** The arguments after the executable (and, from a checkout, after the app's folder). */
function userArgs(): string[] {
  return process.argv.slice(app.isPackaged ? 1 : 2);
}

if (userArgs()[0] === 'stdio') {
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
} else {
  await startDesktopApp();
}
