import { z } from 'zod';
import { defineTool } from '../tool-definition.ts';

/** `auth_status`: who this key acts as and what has been consented; no Graph call, never a token. */
export const authStatus = defineTool({
  name: 'auth_status',
  title: 'Who am I signed in as',
  description:
    'Tells which Microsoft 365 account this connection acts as (username, display name, tenant and account id) and which Microsoft Graph permissions the user has consented to so far. Use it to check the account before acting, or to explain a permission error: a tool whose permission is missing fails until the user runs `mcp-valet login --scopes <permission>`. It makes no Graph call and never returns a token.',
  kind: 'read',
  scopes: [],
  // It reads only local state (the account and the token cache), nothing outside.
  annotations: {
    readOnlyHint: true,
    destructiveHint: false,
    openWorldHint: false,
    idempotentHint: true,
  },
  input: z.strictObject({}),
  output: z.object({
    signedIn: z.literal(true),
    username: z.string().describe('Sign-in name (UPN), usually the email address'),
    name: z.string().nullable().describe('Display name'),
    tenantId: z.string().describe('Entra tenant (directory) id'),
    homeAccountId: z.string().describe('Account id, as `mcp-valet accounts` lists it'),
    viaBroker: z.boolean().describe('Whether the operating system broker holds the sign-in'),
    grantedScopes: z
      .array(z.string())
      .describe('Delegated Graph permissions consented so far, e.g. Mail.Read'),
  }),
  async run(_input, ctx) {
    const { account } = ctx;
    return {
      signedIn: true as const,
      username: account.username,
      name: account.name ?? null,
      tenantId: account.tenantId,
      homeAccountId: account.homeAccountId,
      viaBroker: account.viaBroker,
      grantedScopes: await ctx.grantedScopes(),
    };
  },
});
