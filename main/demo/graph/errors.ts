/** A failure a handler reports; the server turns it into Graph's JSON error response. */
export class GraphError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  /** Extra members of `innerError`, e.g. the throttling status. */
  readonly inner: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { headers?: Record<string, string>; inner?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'GraphError';
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.inner = options.inner ?? {};
  }
}

/** IDs that tie a response to the request, as Graph puts them in `innerError`. */
export interface RequestIds {
  requestId: string;
  clientRequestId: string;
}

/** Graph's timestamp in `innerError.date`: UTC, seconds precision, no zone designator. */
export function innerErrorDate(now = new Date()): string {
  return now.toISOString().slice(0, 19);
}

/** The JSON body Graph sends with an error. */
export function errorBody(error: GraphError, ids: RequestIds): unknown {
  return {
    error: {
      code: error.code,
      message: error.message,
      innerError: {
        ...error.inner,
        date: innerErrorDate(),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
      },
    },
  };
}

/** 400 for a query option or value the stand-in (like Graph) refuses. */
export function badRequest(message: string, code = 'BadRequest'): GraphError {
  return new GraphError(400, code, message);
}

/** 404 for an item that does not exist in the user's mailbox. */
export function itemNotFound(): GraphError {
  return new GraphError(
    404,
    'ErrorItemNotFound',
    'The specified object was not found in the store.',
  );
}
