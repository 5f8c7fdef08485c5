import type { ToolName } from '../mcp/tool-definition.ts';
import type { Policy } from './policy-schema.ts';

/** What the engine needs to know about the tool being called; undefined when no such tool exists. */
export interface PolicyTool {
  name: ToolName;
  kind: 'read' | 'write';
}

/** One decision's inputs. The engine is pure: the same inputs always give the same answer. */
export interface PolicyInput {
  toolName: string;
  tool: PolicyTool | undefined;
  key: { name: string; tools: readonly string[]; readOnly: boolean };
  /** The calling account's Entra app roles (ID token `roles` claim). */
  roles: readonly string[];
  /** Who the roles belong to, for the message. */
  account: string;
  policy: Policy;
}

/** The rule that refused a call. */
export type DenyRule = 'unknown-tool' | 'disabled' | 'not-in-key' | 'read-only' | 'missing-role';

/** Allowed (perhaps only after the user approves), or denied by a named rule with a message. */
export type PolicyDecision =
  { allowed: true; approval: boolean } | { allowed: false; rule: DenyRule; message: string };

/**
 * Decides one tool call. The rules run in a fixed order — the tool exists, it is turned on,
 * the key lists it, a read-only key does not change data, the account has the required app
 * role — and the first that fails names itself. Tools that change data, and any the policy
 * marks, need the user's approval.
 */
export function decide(input: PolicyInput): PolicyDecision {
  const { toolName, tool, key, policy } = input;
  const deny = (rule: DenyRule, message: string): PolicyDecision => ({
    allowed: false,
    rule,
    message,
  });
  if (!tool)
    return deny(
      'unknown-tool',
      toolName
        ? `There is no tool named '${toolName}'`
        : "This tools/call names no tool: put a tool's name from tools/list in params.name",
    );
  const rules = policy.tools[tool.name] ?? {};
  if (rules.enabled === false) {
    return deny(
      'disabled',
      `${tool.name} is turned off for everyone by the MCP Valet policy; an admin can turn it on again`,
    );
  }
  const keyRule = keyRefusal(tool, key);
  if (keyRule === 'not-in-key') {
    return deny(
      keyRule,
      `The valet key '${key.name}' may not call ${tool.name}; it may call ${key.tools.join(', ') || 'no tools'}. Create a key that includes it: \`mcp-valet keys create --name <name> --tools ${tool.name}\``,
    );
  }
  if (keyRule === 'read-only') {
    return deny(
      keyRule,
      `The valet key '${key.name}' is read-only, so it may not call ${tool.name}, which changes data`,
    );
  }
  if (rules.requireRole && !input.roles.includes(rules.requireRole)) {
    return deny(
      'missing-role',
      `${tool.name} requires the app role ${rules.requireRole}, which ${input.account} does not have: ask your admin to assign it in Entra (Enterprise applications → MCP Valet → Users and groups), then sign in again`,
    );
  }
  return { allowed: true, approval: tool.kind === 'write' || rules.approval === true };
}

/** The key's own rules: the tools it lists, and no tool that changes data when it is read-only. */
function keyRefusal(tool: PolicyTool, key: PolicyInput['key']): DenyRule | undefined {
  if (!key.tools.includes(tool.name)) return 'not-in-key';
  if (key.readOnly && tool.kind === 'write') return 'read-only';
  return undefined;
}

/**
 * The tools a key is shown (`tools/list`): those its own rules let it call, in the order given.
 * The policy's switches and role gates are left to `decide` at call time: they can change while
 * a client stays connected, and a key's own rules cannot.
 */
export function toolsForKey<T extends PolicyTool>(
  tools: readonly T[],
  key: PolicyInput['key'],
): T[] {
  return tools.filter((tool) => keyRefusal(tool, key) === undefined);
}

/** One tool's effective policy, as `mcp-valet policy` and the UI show it. */
export interface EffectiveToolPolicy {
  tool: ToolName;
  kind: 'read' | 'write';
  enabled: boolean;
  approval: boolean;
  requireRole: string | null;
}

/** The effective policy of every tool, in contract order. */
export function effectiveToolPolicies(
  tools: readonly PolicyTool[],
  policy: Policy,
): EffectiveToolPolicy[] {
  return tools.map((t) => {
    const rules = policy.tools[t.name] ?? {};
    return {
      tool: t.name,
      kind: t.kind,
      enabled: rules.enabled !== false,
      approval: t.kind === 'write' || rules.approval === true,
      requireRole: rules.requireRole ?? null,
    };
  });
}
