import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Response } from 'express';
import { TOOL_NAMES, type ToolName } from '../../mcp/tool-definition.ts';
import { ALL_SCOPES, scopeForTool, type ValetScope } from '../oauth/scopes.ts';

/**
 * The valet scopes a request's `tools/call` messages need beyond those its token holds, in
 * ALL_SCOPES order; empty when it needs none. Only calls of tools that exist count: a call of
 * an unknown tool goes on to the runner, which refuses it in the audit log.
 */
export function missingScopes(body: unknown, auth: AuthInfo): ValetScope[] {
  const messages = Array.isArray(body) ? body : [body];
  const needed = new Set<ValetScope>();
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) continue;
    const { method, params } = message as { method?: unknown; params?: unknown };
    if (method !== 'tools/call' || typeof params !== 'object' || params === null) continue;
    const name = (params as { name?: unknown }).name;
    if (typeof name !== 'string' || !TOOL_NAMES.includes(name as ToolName)) continue;
    const scope = scopeForTool(name as ToolName);
    if (!auth.scopes.includes(scope)) needed.add(scope);
  }
  return ALL_SCOPES.filter((s) => needed.has(s));
}

/**
 * The step-up answer (MCP authorization, "insufficient scope"): 403 with a challenge naming
 * every scope the client should hold, the ones it has and the ones this call needs, so that it
 * authorizes again for them and the user sees the added tool on the consent page.
 */
export function sendInsufficientScope(
  res: Response,
  auth: AuthInfo,
  needed: readonly ValetScope[],
  resourceMetadataUrl: string,
): void {
  const scopes = [...new Set([...auth.scopes, ...needed])].join(' ');
  const description = `This call needs the scope ${needed.join(' ')}, which the token does not hold: authorize again with it`;
  res
    .status(403)
    .set(
      'www-authenticate',
      `Bearer error="insufficient_scope", scope="${scopes}", resource_metadata="${resourceMetadataUrl}", error_description="${description}"`,
    )
    .json({ error: 'insufficient_scope', error_description: description });
}
