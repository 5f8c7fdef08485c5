import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
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

/** What a transport attaches to each request's `authInfo.extra`: who calls, and how a hang-up shows. */
export interface RequestCaller {
  caller: Caller;
  /** Aborted when the client hangs up before its answer: its call must not go on without it. */
  closed?: AbortSignal;
}

/** The auth a transport attaches to a request of `caller`: the key, not the session, authorizes it. */
export function callerAuthInfo(caller: Caller, closed?: AbortSignal): AuthInfo {
  const extra: RequestCaller = closed ? { caller, closed } : { caller };
  return {
    token: caller.key.id,
    clientId: caller.key.id,
    scopes: [...caller.key.tools],
    extra: { ...extra },
  };
}

/** The caller a request carries, or undefined when it carries none (the call is refused). */
export function requestCaller(authInfo: AuthInfo | undefined): RequestCaller | undefined {
  const extra = authInfo?.extra;
  const caller = extra?.caller as Caller | undefined;
  if (typeof caller?.key?.id !== 'string') return undefined;
  return extra?.closed instanceof AbortSignal ? { caller, closed: extra.closed } : { caller };
}

const NO_KEY: CallToolResult = {
  isError: true,
  content: [
    {
      type: 'text',
      text: 'This call carries no valet key: connect with `Authorization: Bearer <valet key>`',
    },
  ],
};

let validator: AjvJsonSchemaValidator | undefined;

/**
 * One JSON Schema validator for every MCP server this process makes: each server would build
 * its own Ajv otherwise, and the remote endpoint makes a server for every request.
 */
function sharedValidator(): AjvJsonSchemaValidator {
  validator ??= new AjvJsonSchemaValidator();
  return validator;
}

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
 * Each request names its caller in `authInfo.extra` (see callerAuthInfo); one that does not
 * is shown no tools and may call none.
 */
export function createMcpServer(tools: readonly ToolDefinition[], runner: ToolRunner): McpServer {
  const byName = new Map(tools.map((t) => [t.name as string, t]));
  const mcp = new McpServer(SERVER_INFO, {
    jsonSchemaValidator: sharedValidator(),
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
    const caller = requestCaller(extra.authInfo)?.caller;
    return { tools: caller ? toolsForKey(tools, caller.key).map(listing) : [] };
  });
  // tools/call is taken as the fallback for methods with no handler of their own, because a
  // handler registered for it gets only envelopes the SDK has already checked: one whose
  // `arguments` is not an object, or whose `name` is not a string, would be refused before
  // the runner could audit it.
  server.fallbackRequestHandler = async (request, extra) => {
    if (request.method !== 'tools/call')
      throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${request.method}`);
    const carried = requestCaller(extra.authInfo);
    if (!carried) return NO_KEY;
    const { caller, closed } = carried;
    const signal = closed ? AbortSignal.any([extra.signal, closed]) : extra.signal;
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
