import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The CLI entry point, run from source by the test's own Node 24 (type stripping). */
export const CLI_ENTRY = fileURLToPath(new URL('../../main/cli/bin.ts', import.meta.url));

/** One `--json` event line. */
export type CliEvent = { event: string } & Record<string, unknown>;

/** What a finished CLI process printed. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: CliEvent[];
}

/**
 * A minimal environment for a CLI child: no session bus (so no keyring unless a test gives
 * one), no display, the run's CA, and whatever the test adds.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/valet-test-bus',
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A running CLI process whose `--json` events can be awaited as they arrive. */
export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  events: CliEvent[];
  nextEvent(name: string, timeoutMs?: number): Promise<CliEvent>;
  exited: Promise<CliResult>;
}

/**
 * Starts `mcp-valet <args>` as a child process (from the sources, unless `entry` says
 * otherwise), with Node's own `nodeArgs` before the entry.
 */
export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  entry = CLI_ENTRY,
  nodeArgs: string[] = [],
): CliProcess {
  const child = spawn(process.execPath, [...nodeArgs, entry, ...args], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events: CliEvent[] = [];
  const waiters: Array<{ name: string; resolve: (e: CliEvent) => void }> = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      let event: CliEvent;
      try {
        event = JSON.parse(line) as CliEvent;
      } catch {
        // Not an event (e.g. --help text); the test sees it in `stdout`.
        continue;
      }
      events.push(event);
      for (const w of waiters.filter((w) => w.name === event.event)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, events })),
  );
  return {
    child,
    events,
    exited,
    nextEvent(name, timeoutMs = 30_000) {
      const seen = events.find((e) => e.event === name);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "${name}" event within ${timeoutMs} ms; stderr:\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({ name, resolve: (e) => (clearTimeout(timer), resolve(e)) });
        void exited.then((r) => {
          clearTimeout(timer);
          reject(
            new Error(
              `the CLI exited (${r.code ?? r.signal}) before a "${name}" event; stderr:\n${r.stderr}`,
            ),
          );
        });
      });
    },
  };
}

/** Closes a started command's stdin and waits for it to end, killing it after `timeoutMs`. */
export async function toCompletion(proc: CliProcess, timeoutMs: number): Promise<CliResult> {
  proc.child.stdin.end();
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `mcp-valet <args>` to completion. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<CliResult> {
  return toCompletion(spawnCli(args, env), timeoutMs);
}
