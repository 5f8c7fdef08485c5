import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { toolsForKey } from '../policy/policy-engine.ts';
import type { ToolDefinition } from './tool-definition.ts';
import type { CallExtras, Caller, ToolRunner } from './tool-runner.ts';

/** The product's name and version as MCP clients see them. */
export const SERVER_INFO = { name: 'mcp-valet', version: '0.1.0' } as const;

/** Builds the caller of a request from what the transport attached to it. */
export type CallerResolver = (
  authInfo: { extra?: Record<string, unknown> } | undefined,
  sessionId: string | undefined,
) => Caller | undefined;

const NO_KEY: CallToolResult = {
  isError: true,
  content: [
    {
      type: 'text',
      text: 'This call carries no valet key: connect with `Authorization: Bearer <valet key>`',
    },
  ],
};

/** A tool as `tools/list` shows it; built once per definition, since definitions never change. */
const listings = new WeakMap<ToolDefinition, Tool>();

function listing(tool: ToolDefinition): Tool {
  let listed = listings.get(tool);
  if (!listed) {
    listed = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: z.toJSONSchema(tool.input, {
        target: 'draft-7',
        io: 'input',
      }) as Tool['inputSchema'],
      annotations: { title: tool.title, ...tool.annotations },
      // Calls run while the client waits; there are no long-running MCP tasks.
      execution: { taskSupport: 'forbidden' },
      outputSchema: z.toJSONSchema(tool.output, {
        target: 'draft-7',
        io: 'output',
      }) as Tool['outputSchema'],
    };
    listings.set(tool, listed);
  }
  return listed;
}

/**
 * Builds an MCP server with MCP Valet's tools. It knows nothing of transports: the HTTP
 * endpoint, the stdio shim's peer and tests connect it to whatever they use.
 *
 * `tools/list` and `tools/call` are answered here rather than by the SDK's tool registry,
 * which checks arguments against the schema before any handler runs: a key refused a tool
 * would get the schema's complaint instead of the policy's refusal, and a refused call would
 * never reach the audit log. Here every call, even to a tool that does not exist, goes to the
 * runner, which checks the policy first, then the arguments (once), and audits the outcome.
 */
export function createMcpServer(
  tools: readonly ToolDefinition[],
  runner: ToolRunner,
  resolveCaller: CallerResolver,
): McpServer {
  const byName = new Map(tools.map((t) => [t.name as string, t]));
  const mcp = new McpServer(SERVER_INFO, {
    instructions:
      "MCP Valet gives access to the signed-in user's Microsoft 365 data (profile, mail, calendar, files, people) through Microsoft Graph. Tools that send mail or create events change real data and may wait for the user's approval.",
  });
  const server = mcp.server;
  // A key's list is fixed for its life (its tools and read-only flag never change), so the
  // list a session sees never changes either.
  server.registerCapabilities({ tools: { listChanged: false } });
  // Only the tools the key may call: a read-only key is not shown the ones that change data.
  // Tools the policy turns off for everyone stay listed: clients keep a session's list (we
  // announce no changes), while an admin can turn a tool on again at any time; meanwhile a
  // call to it gets the policy's message, which says so.
  server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => {
    const caller = resolveCaller(extra.authInfo, extra.sessionId);
    return { tools: caller ? toolsForKey(tools, caller.key).map(listing) : [] };
  });
  // tools/call is taken as the fallback for methods with no handler of their own, because a
  // handler registered for it gets only envelopes the SDK has already checked: one whose
  // `arguments` is not an object, or whose `name` is not a string, would be refused before
  // the runner could audit it.
  server.fallbackRequestHandler = async (request, extra) => {
    if (request.method !== 'tools/call')
      throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${request.method}`);
    const caller = resolveCaller(extra.authInfo, extra.sessionId);
    if (!caller) return NO_KEY;
    // The endpoint's signal of a client that hung up: its call must not go on without it.
    const closed = extra.authInfo?.extra?.closed;
    const signal =
      closed instanceof AbortSignal ? AbortSignal.any([extra.signal, closed]) : extra.signal;
    const token = extra._meta?.progressToken;
    let progress = 0;
    const extras: CallExtras =
      token === undefined
        ? {}
        : {
            progress: (message: string) =>
              extra.sendNotification({
                method: 'notifications/progress',
                params: { progressToken: token, progress: ++progress, message },
              }),
          };
    const { name, arguments: args } = (request.params ?? {}) as Record<string, unknown>;
    const toolName = typeof name === 'string' ? name : '';
    return runner.call(byName.get(toolName) ?? toolName, args, caller, signal, extras);
  };
  return mcp;
}
