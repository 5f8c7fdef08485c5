import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolDefinition } from './tool-definition.ts';
import type { Caller, ToolRunner } from './tool-runner.ts';

/** The product's name and version as MCP clients see them. */
export const SERVER_INFO = { name: 'mcp-valet', version: '0.1.0' } as const;

/** Builds the caller of a request from what the transport attached to it. */
export type CallerResolver = (
  authInfo: { extra?: Record<string, unknown> } | undefined,
  sessionId: string | undefined,
) => Caller | undefined;

/**
 * Builds an MCP server with MCP Valet's tools. It knows nothing of transports: the HTTP
 * endpoint, the stdio shim's peer and tests connect it to whatever they use.
 */
export function createMcpServer(
  tools: readonly ToolDefinition[],
  runner: ToolRunner,
  resolveCaller: CallerResolver,
): McpServer {
  const server = new McpServer(SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    instructions:
      "MCP Valet gives access to the signed-in user's Microsoft 365 data (profile, mail, calendar, files, people) through Microsoft Graph. Tools that send mail or create events change real data and may wait for the user's approval.",
  });
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        outputSchema: tool.output,
        annotations: { title: tool.title, ...tool.annotations },
      },
      async (args: unknown, extra) => {
        const caller = resolveCaller(extra.authInfo, extra.sessionId);
        if (!caller) {
          return {
            isError: true,
            content: [
              {
                type: 'text' as const,
                text: 'This call carries no valet key: connect with `Authorization: Bearer <valet key>`',
              },
            ],
          };
        }
        const token = extra._meta?.progressToken;
        let progress = 0;
        const extras =
          token === undefined
            ? {}
            : {
                progress: (message: string) =>
                  extra.sendNotification({
                    method: 'notifications/progress',
                    params: { progressToken: token, progress: ++progress, message },
                  }),
              };
        return runner.call(tool, args, caller, extra.signal, extras);
      },
    );
  }
  return server;
}
