import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A secret held in the configuration (a client secret, a cache key). Printing, logging or
 * serializing the configuration shows `[redacted]`; only `reveal()` gives the value, so a
 * config object that reaches a log line by mistake carries no secret.
 */
export class SecretValue<T> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  /** The secret itself, for the one place that needs it (MSAL, the cipher). */
  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
