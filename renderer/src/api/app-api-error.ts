import type { AppErrorDto } from '../../../preload/contract.ts';

/** A failed call, with the code, message and fields at fault that the core gave. */
export class AppApiError extends Error {
  readonly code: string;
  /** The request fields a validation refused, when it was one. */
  readonly fields: readonly string[];

  constructor(error: AppErrorDto) {
    super(error.message);
    this.name = 'AppApiError';
    this.code = error.code;
    this.fields = error.fields ?? [];
  }
}

/** Any failure of a call as an AppApiError: the preload rejects with the core's error as data. */
export function toAppApiError(error: unknown): AppApiError {
  if (error instanceof AppApiError) return error;
  const data = (typeof error === 'object' && error !== null ? error : {}) as Partial<AppErrorDto>;
  return new AppApiError({
    code: typeof data.code === 'string' ? data.code : 'unexpected',
    message:
      typeof data.message === 'string' && data.message
        ? data.message
        : error instanceof Error && error.message
          ? error.message
          : 'Something went wrong: try again',
    ...(Array.isArray(data.fields)
      ? { fields: data.fields.filter((f): f is string => typeof f === 'string') }
      : {}),
  });
}

/** Whether `error` is a validation refusal naming `field`. */
export function refusedField(error: unknown, field: string): boolean {
  return error instanceof AppApiError && error.fields.includes(field);
}
