import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';

/**
 * Which client requests are safe to send twice (after a restart cut off their answer): all
 * but tool calls, and calls of the tools the endpoint marks read-only in its tools/list.
 */
export class ResendPolicy {
  /** Tools the endpoint marks read-only: a call of one of these is safe to send twice. */
  readonly #readOnlyTools = new Set<string>();

  /** Takes note of which tools a tools/list result marks read-only. */
  learnTools(result: unknown): void {
    const tools = (result as { tools?: unknown }).tools;
    if (!Array.isArray(tools)) return;
    for (const tool of tools as Array<{ name?: unknown; annotations?: { readOnlyHint?: unknown } }>)
      if (typeof tool.name === 'string')
        if (tool.annotations?.readOnlyHint === true) this.#readOnlyTools.add(tool.name);
        else this.#readOnlyTools.delete(tool.name);
  }

  /** Whether sending `message` again cannot do twice what the user asked once. */
  safeTwice(message: JSONRPCRequest): boolean {
    if (message.method !== 'tools/call') return true;
    const name = (message.params as { name?: unknown } | undefined)?.name;
    return typeof name === 'string' && this.#readOnlyTools.has(name);
  }
}
