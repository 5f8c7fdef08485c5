import { describeError, isValetError } from '../core/util/valet-error.ts';

/** A `--json` event: one object a line on stdout, always with an `event` field. */
export type CliEvent = { event: string } & Record<string, unknown>;

/** Where a command writes. stdout carries only `--json` events; people read stderr. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** Exit codes of the CLI contract. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * The CLI's output for one command: `--json` events go to stdout as NDJSON, human lines go
 * to stderr. Either way, errors come out as one line without a stack trace.
 */
export class Output {
  readonly json: boolean;
  readonly #io: CliIo;

  constructor(io: CliIo, json: boolean) {
    this.#io = io;
    this.json = json;
  }

  /** Emits a machine-readable event (only under --json). */
  event(event: CliEvent): void {
    if (this.json) this.#io.stdout.write(`${JSON.stringify(event)}\n`);
  }

  /** Writes a line for a person (stderr, so stdout stays clean for --json and stdio). */
  say(line = ''): void {
    this.#io.stderr.write(`${line}\n`);
  }

  /** Reports a failure as an `error` event and a human line; returns the exit code. */
  fail(err: unknown): number {
    const code = isValetError(err) ? err.code : 'unexpected';
    const message = isValetError(err) ? err.message : `Unexpected error: ${describeError(err)}`;
    this.event({ event: 'error', code, message });
    this.say(`mcp-valet: ${message}`);
    if (
      !isValetError(err) &&
      this.#io.env.VALET_LOG_LEVEL === 'debug' &&
      err instanceof Error &&
      err.stack
    ) {
      this.say(err.stack);
    }
    return EXIT.failure;
  }
}
