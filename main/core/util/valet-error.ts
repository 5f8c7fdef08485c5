/**
 * An error whose message is written for a person: it names the cause and the fix, and it
 * never carries a token, a key or a message body. `code` is stable for `--json` output.
 */
export class ValetError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ValetError';
    this.code = code;
  }
}

/** True when `err` is a ValetError, optionally with the given code. */
export function isValetError(err: unknown, code?: string): err is ValetError {
  return err instanceof ValetError && (code === undefined || err.code === code);
}

/** A one-line description of any thrown value, for places that must not print stack traces. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
