import { READ_TOOLS, TOOL_NAMES, type ToolName } from '../../mcp/tool-definition.ts';

/**
 * The scopes valet mode issues, one per tool group, and the tools each one lets a token call.
 * This is the only place scopes and tools meet: the consent page, the token endpoint and the
 * per-tool step-up check all read it.
 */
export const SCOPE_TOOLS = {
  'valet.read': READ_TOOLS,
  'valet.mail.send': ['send_mail'],
  'valet.calendars.write': ['create_event'],
} as const satisfies Record<string, readonly ToolName[]>;

/** One of the scopes valet mode issues. */
export type ValetScope = keyof typeof SCOPE_TOOLS;

/** Every scope, for the authorization server's metadata. */
export const ALL_SCOPES = Object.keys(SCOPE_TOOLS) as ValetScope[];

/**
 * What a client gets when it names no scope, and all the protected resource metadata advertises:
 * the smallest set a client works with. Writing is asked for later by step-up.
 */
export const BASE_SCOPE: ValetScope = 'valet.read';

const TOOL_SCOPE = new Map<ToolName, ValetScope>(
  ALL_SCOPES.flatMap((scope) => SCOPE_TOOLS[scope].map((tool) => [tool, scope] as const)),
);

/** True when `scope` is one valet mode issues. */
export function isValetScope(scope: string): scope is ValetScope {
  return Object.hasOwn(SCOPE_TOOLS, scope);
}

/** The scope a token needs to call `tool`. */
export function scopeForTool(tool: ToolName): ValetScope {
  const scope = TOOL_SCOPE.get(tool);
  // Every tool is in SCOPE_TOOLS (a test holds this), so a miss is a programming error.
  if (!scope) throw new Error(`The tool ${tool} has no valet scope.`);
  return scope;
}

/** The scopes that cover `tools`, in ALL_SCOPES order. */
export function scopesForTools(tools: readonly ToolName[]): ValetScope[] {
  const needed = new Set(tools.map(scopeForTool));
  return ALL_SCOPES.filter((s) => needed.has(s));
}

/** The tools the given scopes cover; unknown scopes cover nothing. */
export function toolsForScopes(scopes: readonly string[]): ToolName[] {
  const granted = new Set(scopes.filter(isValetScope));
  return TOOL_NAMES.filter((tool) => granted.has(scopeForTool(tool)));
}

/** The known scopes among `requested`, in ALL_SCOPES order; others (offline_access, …) are dropped. */
export function knownScopes(requested: readonly string[]): ValetScope[] {
  const asked = new Set(requested);
  return ALL_SCOPES.filter((s) => asked.has(s));
}
