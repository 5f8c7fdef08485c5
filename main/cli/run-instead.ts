// Loaded by the `mcp-valet` executable before it knows which Node runs it: built-ins only.
import { spawn } from 'node:child_process';

/** The signals that stop a command: Ctrl+C, a kill, a terminal closed. */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/**
 * A copy of a signal this soon after the last one is the same request: npm (behind npx)
 * forwards the Ctrl+C it got from the terminal to its child, which got it as well.
 */
const SAME_REQUEST_MS = 1000;

/** How a process ended: its exit code, or the signal that ended it. */
export interface Ending {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs `command args` in this process's stead, with its stdio and `env` as the environment,
 * and passes every stop signal this process gets on to it, once. The child gets a process group
 * of its own (on POSIX), so that a terminal's Ctrl+C, which goes to the whole foreground group,
 * reaches it only through this process: a process stopping cleanly must not be hit by a second
 * copy. Resolves with how it ended.
 */
export function runInstead(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Ending> {
  // On Windows a detached child would get a console window of its own.
  const child = spawn(command, args, {
    env,
    stdio: 'inherit',
    detached: process.platform !== 'win32',
  });
  const last = new Map<NodeJS.Signals, number>();
  const forward = (signal: NodeJS.Signals) => {
    const now = performance.now();
    const before = last.get(signal);
    last.set(signal, now);
    if (before === undefined || now - before >= SAME_REQUEST_MS) child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      resolve({ code, signal });
    });
  });
}

/** Ends this process as `ending` says its stand-in ended: the same exit code, or the same signal. */
export function endAs(ending: Ending): void {
  if (ending.signal) {
    // Dying of the same signal tells a shell what happened (a script stops on Ctrl+C).
    process.kill(process.pid, ending.signal);
    return;
  }
  process.exit(ending.code ?? 1);
}
