import { randomUUID } from 'node:crypto';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { ValetError } from '../core/util/valet-error.ts';
import type { Upstream } from './stdio-upstream.ts';

/** An endpoint that takes a session's initialize but never answers it is treated as gone. */
const REPLAY_TIMEOUT_MS = 10_000;

/**
 * The client's `initialize`, replayed under an id of the bridge's own to open each new
 * session; its answer goes to the bridge, not to the client, which initialized long ago.
 */
export class InitializeReplay {
  /** The client's initialize and whether it said initialized: replayed for each new session. */
  #initialize: JSONRPCRequest | undefined;
  #initialized = false;
  /** The bridge's own requests (replayed initializes), answered to it and not to the client. */
  readonly #own = new Map<
    RequestId,
    { resolve: (m: JSONRPCMessage) => void; reject: () => void }
  >();

  /** The client's latest initialize, if it sent one. */
  get initialize(): JSONRPCRequest | undefined {
    return this.#initialize;
  }

  /** The client (re)initializes: its request opens each later session. */
  initializing(message: JSONRPCRequest): void {
    this.#initialize = message;
    this.#initialized = false;
  }

  /** The client said initialized: each later session is told so after its initialize. */
  initialized(): void {
    this.#initialized = true;
  }

  /**
   * Opens the session of `upstream` with `initialize`, and says initialized if the client
   * did; throws if the endpoint refuses, or its answer does not come.
   */
  async replay(upstream: Upstream, initialize: JSONRPCRequest): Promise<void> {
    const id = `mcp-valet-stdio-${randomUUID()}`;
    const answer = new Promise<JSONRPCMessage>((resolve, reject) =>
      this.#own.set(id, {
        resolve,
        reject: () => reject(new ValetError('session_lost', 'the endpoint went away')),
      }),
    );
    // Awaited below unless the send fails first.
    answer.catch(() => undefined);
    const timer = setTimeout(() => this.#own.get(id)?.reject(), REPLAY_TIMEOUT_MS);
    try {
      await upstream.transport.send({ ...initialize, id });
      const result = await answer;
      if ('error' in result)
        throw new ValetError(
          'session_refused',
          `MCP Valet refused a new session: ${String((result.error as { message?: unknown }).message)}`,
        );
      const version = (result as { result?: { protocolVersion?: unknown } }).result
        ?.protocolVersion;
      if (typeof version === 'string') upstream.transport.setProtocolVersion(version);
      if (this.#initialized)
        await upstream.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    } finally {
      clearTimeout(timer);
      this.#own.delete(id);
    }
  }

  /** Takes the answer to a replay (true); any other message is not the replay's (false). */
  answered(id: RequestId, message: JSONRPCMessage): boolean {
    const own = this.#own.get(id);
    if (!own) return false;
    own.resolve(message);
    return true;
  }

  /** The stream that was to carry answer `id` ended: if it was a replay's, the replay fails. */
  lost(id: RequestId): void {
    this.#own.get(id)?.reject();
  }
}
