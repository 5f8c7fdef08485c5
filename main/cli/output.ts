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

/** How long a live-log line may wait to be written with the ones after it. */
export const LIVE_FLUSH_MS = 50;
/** Past this many characters waiting, they are written at once. */
const LIVE_MAX_CHARS = 64 * 1024;

/** Lines for one stream, written together: a write to a pipe is a blocking system call. */
class PendingLines {
  readonly #stream: NodeJS.WritableStream;
  #text = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
  }

  add(line: string): void {
    this.#text += line;
    if (this.#text.length >= LIVE_MAX_CHARS) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), LIVE_FLUSH_MS).unref();
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#text) return;
    const text = this.#text;
    this.#text = '';
    this.#stream.write(text);
  }
}

/**
 * The CLI's output for one command: `--json` events go to stdout as NDJSON, human lines go
 * to stderr. Either way, errors come out as one line without a stack trace. A live log (the
 * tool calls `serve` follows) is written in batches, at most LIVE_FLUSH_MS late; anything
 * else is written at once, after what waits, so the order of lines is kept, and what waits is
 * written when the process exits.
 */
export class Output {
  readonly json: boolean;
  readonly #io: CliIo;
  readonly #stdout: PendingLines;
  readonly #stderr: PendingLines;
  #flushAtExit: (() => void) | undefined;

  constructor(io: CliIo, json: boolean) {
    this.#io = io;
    this.json = json;
    this.#stdout = new PendingLines(io.stdout);
    this.#stderr = new PendingLines(io.stderr);
  }

  /** Emits a machine-readable event (only under --json), at once. */
  event(event: CliEvent): void {
    if (!this.json) return;
    this.#stdout.flush();
    this.#io.stdout.write(`${JSON.stringify(event)}\n`);
  }

  /** Writes a line for a person (stderr, so stdout stays clean for --json and stdio), at once. */
  say(line = ''): void {
    this.#stderr.flush();
    this.#io.stderr.write(`${line}\n`);
  }

  /** Emits a live-log event line (already JSON, only under --json) with the next batch. */
  liveEvent(json: string): void {
    if (!this.json) return;
    this.#watchExit();
    this.#stdout.add(`${json}\n`);
  }

  /** Writes a live-log line for a person with the next batch. */
  liveSay(line: string): void {
    this.#watchExit();
    this.#stderr.add(`${line}\n`);
  }

  /** Writes every line that waits. */
  flush(): void {
    this.#stdout.flush();
    this.#stderr.flush();
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

  /** Makes sure waiting lines are written however the process ends (writes to pipes are synchronous then). */
  #watchExit(): void {
    if (this.#flushAtExit) return;
    this.#flushAtExit = () => this.flush();
    process.once('exit', this.#flushAtExit);
  }
}
