/** A JSON-RPC request id: the SDK keys its own bookkeeping by the raw value, so do we. */
export type RequestId = string | number;

/** One HTTP POST's share of the session's requests; `done` runs once it is over. */
export interface Post {
  ids: RequestId[];
  remaining: number;
  closed: boolean;
  done: () => void;
}

/**
 * The JSON-RPC requests of one session that are not answered yet. A POST's `done` (which
 * releases its rate-limit admission) runs only when its HTTP exchange has closed *and*
 * each of its requests was answered, cancelled or refused by the SDK: a call whose client
 * hung up, or that waits for the user's approval, still counts against its key.
 */
export class InFlightRequests {
  readonly #calls = new Map<RequestId, { post: Post; delivered: boolean }>();

  /**
   * Takes note of the requests in `body` (one message or a batch) before the SDK reads it.
   * Refuses a body that reuses the id of a request still in flight, or repeats an id: the
   * SDK would route both answers to the last one and leave the first open for good.
   */
  begin(body: unknown, done: () => void): Post | { duplicate: RequestId; inBatch: boolean } {
    const messages = Array.isArray(body) ? body : [body];
    const seen = messages.length > 1 ? new Set<RequestId>() : undefined;
    for (const message of messages) {
      const id = requestIdOf(message);
      if (id === undefined) continue;
      if (this.#calls.has(id)) return { duplicate: id, inBatch: false };
      if (seen?.has(id)) return { duplicate: id, inBatch: true };
      seen?.add(id);
    }
    const post: Post = { ids: [], remaining: 0, closed: false, done };
    for (const message of messages) {
      const id = requestIdOf(message);
      if (id === undefined) continue;
      post.ids.push(id);
      post.remaining++;
      this.#calls.set(id, { post, delivered: false });
    }
    return post;
  }

  /** The POST's HTTP exchange closed; requests the SDK never took will not be answered. */
  closed(post: Post): void {
    for (const id of post.ids) {
      const call = this.#calls.get(id);
      if (call?.post === post && !call.delivered) {
        this.#calls.delete(id);
        post.remaining--;
      }
    }
    post.closed = true;
    if (post.remaining === 0) post.done();
  }

  /** The SDK handed a message to the MCP server: its requests are now being served. */
  delivered(message: { id?: unknown; method?: unknown; params?: unknown }): void {
    if (message.method === 'notifications/cancelled') {
      // The SDK drops the answer to a cancelled request: it is over for our purposes.
      const id = (message.params as { requestId?: unknown } | undefined)?.requestId;
      if (typeof id === 'string' || typeof id === 'number') this.#settle(id);
      return;
    }
    if (typeof message.method !== 'string') return;
    const call = this.#calls.get(message.id as RequestId);
    if (call) call.delivered = true;
  }

  /** The server answered request `id`. */
  answered(id: RequestId): void {
    this.#settle(id);
  }

  /** The session ended: nothing in it will be answered. */
  clear(): void {
    for (const id of [...this.#calls.keys()]) this.#settle(id);
  }

  #settle(id: RequestId): void {
    const call = this.#calls.get(id);
    if (!call) return;
    this.#calls.delete(id);
    const post = call.post;
    post.remaining--;
    if (post.closed && post.remaining === 0) post.done();
  }
}

/** The id of a JSON-RPC request (a message with a method and an id), else undefined. */
function requestIdOf(message: unknown): RequestId | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { id, method } = message as { id?: unknown; method?: unknown };
  if (typeof method !== 'string') return undefined;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}
