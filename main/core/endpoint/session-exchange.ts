import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Post } from './in-flight-requests.ts';
import type { Session } from './mcp-session.ts';
import { duplicateId, type Refused } from './refusals.ts';

/** The `closed` signal of requests that carry no call (GET streams, DELETE): never aborted. */
const NEVER_CLOSED = new AbortController().signal;

/**
 * What the end of an HTTP exchange must undo: the admission at first, then (once the request
 * reaches MCP) the session's bookkeeping.
 */
export interface Exchange {
  closed: boolean;
  onClose?: () => void;
}

/** Follows the end of an HTTP exchange, to undo what it held. */
export function watchExchange(res: ServerResponse): Exchange {
  const exchange: Exchange = { closed: false };
  res.once('close', () => {
    exchange.closed = true;
    exchange.onClose?.();
  });
  return exchange;
}

/**
 * Enters an admitted request into its session's books: its calls count as in flight until
 * answered, and the session is in use until the exchange ends. Gives the signal that aborts
 * when the client hangs up before its answer (so the MCP layer can stop the call and a pending
 * approval; the admission stays held until the call has ended), or the refusal of a body that
 * reuses the id of a request in flight.
 */
export function enterSession(
  req: IncomingMessage,
  res: ServerResponse,
  session: Session,
  body: unknown,
  exchange: Exchange,
): { closed: AbortSignal } | { refused: Refused } {
  const release = exchange.onClose;
  let post: Post | undefined;
  if (req.method === 'POST') {
    const begun = session.inFlight.begin(body, release ?? (() => undefined));
    if ('duplicate' in begun) return { refused: duplicateId(begun.duplicate, begun.inBatch) };
    post = begun;
  }
  const controller = post ? new AbortController() : undefined;
  session.open++;
  exchange.onClose = () => {
    session.open--;
    session.lastSeen = Date.now();
    if (!post) return release?.();
    if (!res.writableFinished) controller?.abort();
    session.inFlight.closed(post);
  };
  return { closed: controller?.signal ?? NEVER_CLOSED };
}
