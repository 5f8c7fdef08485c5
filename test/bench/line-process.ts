// A server process of a benchmark that speaks in JSON lines on stdout: started, waited for until
// its `ready` line, asked things on stdin line by line, and stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A running process whose stdout is read as JSON lines. */
export interface LineProcess {
  proc: ChildProcess;
  /** The `url` of its ready line. */
  url: string;
  /** Writes `message` as a line on its stdin and resolves to its next line of JSON. */
  ask<T>(message: unknown): Promise<T>;
  /** SIGTERM, then waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `node <args>` with `env` and waits for the line holding `"ready"` (any line before it
 * is passed over). With `drain`, later lines are read and dropped (a serve's live tool_call
 * events), so the pipe never fills; otherwise they are kept for `ask`.
 */
export async function startLineProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { drain?: boolean } = {},
): Promise<LineProcess> {
  const stdin = options.drain ? 'ignore' : 'pipe';
  const proc = spawn(process.execPath, args, { env, stdio: [stdin, 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const queued: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let ready = false;
  lines.on('line', (line) => {
    const wake = waiting.shift();
    if (wake) wake(line);
    else if (!options.drain || !ready) queued.push(line);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const line = queued.shift();
      if (line !== undefined) return resolve(line);
      waiting.push(resolve);
      void exited.then((code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    });
  let url = '';
  while (!ready) {
    const line = await next();
    if (!line.includes('"ready"')) continue;
    url = String((JSON.parse(line) as { url: unknown }).url);
    ready = true;
  }
  return {
    proc,
    url,
    ask: async <T>(message: unknown) => {
      if (!proc.stdin) throw new Error('this process was started to be drained, not asked');
      proc.stdin.write(`${JSON.stringify(message)}\n`);
      return JSON.parse(await next()) as T;
    },
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
