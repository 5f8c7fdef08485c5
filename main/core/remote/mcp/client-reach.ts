import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ToolRunner, type ToolRunnerDeps } from '../../mcp/tool-runner.ts';
import { ApprovalReach } from '../approvals/approval-reach.ts';
import type { SharedStore } from '../store/shared-store.ts';

/** How long a client's declared capabilities are remembered after its last `initialize`. */
const CAPABILITIES_TTL_MS = 30 * 24 * 3_600_000;

function messagesOf(body: unknown): Array<{ method?: unknown; params?: unknown }> {
  const list: unknown[] = Array.isArray(body) ? body : [body];
  return list.filter(
    (m): m is { method?: unknown; params?: unknown } => typeof m === 'object' && m !== null,
  );
}

/** Whether a request's body (a JSON-RPC message or a batch) carries a call of `method`. */
export function carries(body: unknown, method: string): boolean {
  return messagesOf(body).some((m) => m.method === method);
}

/**
 * Whether a key's client opens approval pages it is sent with −32042 (URL elicitation). The
 * transport is stateless, so a `tools/call` arrives on a server that never saw the client's
 * `initialize`: what the client declared there is kept in the store per key, for any
 * instance to read when a call of that key needs approval.
 */
export class ClientReach {
  readonly #store: SharedStore;

  constructor(store: SharedStore) {
    this.#store = store;
  }

  /** Notes an `initialize` of the request; the reach of its calls (undefined: it makes none). */
  async forRequest(keyId: string, body: unknown): Promise<ApprovalReach | undefined> {
    const messages = messagesOf(body);
    const init = messages.find((m) => m.method === 'initialize');
    if (init) {
      const capabilities = (init.params as { capabilities?: { elicitation?: { url?: unknown } } })
        ?.capabilities;
      const url = capabilities?.elicitation?.url !== undefined;
      await this.#store.set(`mcpclient:${keyId}`, url ? 'url' : 'none', {
        ttlMs: CAPABILITIES_TTL_MS,
      });
      return new ApprovalReach(url);
    }
    if (!messages.some((m) => m.method === 'tools/call')) return undefined;
    return new ApprovalReach((await this.#store.get(`mcpclient:${keyId}`)) === 'url');
  }
}

/**
 * The runner of one request, which answers a call waiting on an approval page with −32042
 * when the client declared URL elicitation, instead of the tool result: the client opens the
 * page and retries, and the retry finds the decision.
 */
export class ReachingRunner extends ToolRunner {
  readonly #reach: ApprovalReach | undefined;

  constructor(deps: ToolRunnerDeps, reach: ApprovalReach | undefined) {
    super(deps);
    this.#reach = reach;
  }

  override async call(...args: Parameters<ToolRunner['call']>): Promise<CallToolResult> {
    const result = await super.call(...args);
    this.#reach?.throwIfRequired();
    return result;
  }
}
