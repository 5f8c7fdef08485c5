import type { Output } from './output.ts';

/** The signals that stop a long-running command. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** A copy of the stop signal this soon after the first belongs to the same Ctrl+C. */
const SAME_REQUEST_MS = 1000;

let first: { signal: NodeJS.Signals; at: number } | undefined;
let stop: Promise<NodeJS.Signals> | undefined;

/**
 * The first SIGINT, SIGTERM or SIGHUP this process gets, from the first call on. The
 * handlers stay: a second copy of the same Ctrl+C (the terminal and npm both send one) must
 * not kill a process that is stopping cleanly. Asked again a second or more later, the user
 * wants out: the process ends at once, saying so through `out`.
 */
export function stopSignal(out?: Output): Promise<NodeJS.Signals> {
  stop ??= new Promise((resolve) => {
    for (const signal of STOP_SIGNALS)
      process.on(signal, () => {
        const now = performance.now();
        if (!first) {
          first = { signal, at: now };
          resolve(signal);
        } else if (now - first.at >= SAME_REQUEST_MS) {
          out?.say(`mcp-valet: ${signal} again: stopping at once, without closing cleanly.`);
          process.exit(130);
        }
      });
  });
  return stop;
}
