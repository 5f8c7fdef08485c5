import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { TOOL_NAMES, type ToolName } from '../../mcp/tool-definition.ts';
import type { Policy } from '../../policy/policy-schema.ts';
import { ValetError } from '../../util/valet-error.ts';

/**
 * Who a remote call acts as and what it may call, whichever front door let it in: a valet key
 * (valet mode) or an Entra access token (entra mode). Tools run for this and nothing else.
 */
export interface Principal {
  /** The user's Entra object ID. */
  oid: string;
  /** The user's tenant. */
  tid: string;
  /** MSAL's account ID (`<oid>.<tid>` in Entra), where a signed-in user's cache is known. */
  homeAccountId?: string;
  /** The MCP client: a valet-mode client ID, or the Entra app that asked for the token (`azp`). */
  clientId: string;
  /** The valet key the call comes with (valet mode only). */
  keyId?: string;
  /** The tools this caller may call. */
  tools: ToolName[];
  /** When true, no tool that changes data. */
  readOnly: boolean;
  /** The user's Entra app roles. */
  roles: string[];
}

/** What the entra verifier puts in `AuthInfo.extra`: the token's principal, never the token. */
export interface EntraTokenExtra extends Record<string, unknown> {
  oid: string;
  tid: string;
  name: string | undefined;
  username: string | undefined;
  roles: string[];
  /** The client app the token was issued to (`azp`, or `appid` in a v1 token). */
  azp: string;
}

/**
 * The principal of a verified entra-mode token. There is no key to narrow it: the tools are
 * those the policy leaves on and whose required app role the token's `roles` hold; the policy
 * still decides every call, since it can change while a token lives.
 */
export function entraPrincipal(auth: AuthInfo, policy: Policy): Principal {
  const extra = entraExtra(auth);
  const tools = TOOL_NAMES.filter((name) => {
    const rules = policy.tools[name] ?? {};
    return (
      rules.enabled !== false && (!rules.requireRole || extra.roles.includes(rules.requireRole))
    );
  });
  return {
    oid: extra.oid,
    tid: extra.tid,
    homeAccountId: `${extra.oid}.${extra.tid}`,
    clientId: extra.azp,
    tools,
    readOnly: false,
    roles: [...extra.roles],
  };
}

/** The entra extra of an AuthInfo; throws when the AuthInfo did not come from the entra verifier. */
export function entraExtra(auth: AuthInfo): EntraTokenExtra {
  const extra = auth.extra as Partial<EntraTokenExtra> | undefined;
  if (
    typeof extra?.oid !== 'string' ||
    typeof extra.tid !== 'string' ||
    typeof extra.azp !== 'string' ||
    !Array.isArray(extra.roles)
  )
    throw new ValetError(
      'not_entra_token',
      'This request was not authorized by an Entra access token, so it has no Entra principal',
    );
  return extra as EntraTokenExtra;
}
