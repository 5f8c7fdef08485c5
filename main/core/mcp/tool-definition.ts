import type { z } from 'zod';
import type { AccountSummary } from '../auth/auth-types.ts';
import { TOOL_NAMES } from '../../../preload/contract.ts';
import type { GraphRequest, GraphResponse } from '../graph/graph-client.ts';

/** The nine tools, by their contract names (DESIGN.md §3); the window's contract holds the list. */
export { TOOL_NAMES };
/** One of TOOL_NAMES. */
export type ToolName = (typeof TOOL_NAMES)[number];

/** Tools that only read; a key gets these unless told otherwise. */
export const READ_TOOLS: readonly ToolName[] = TOOL_NAMES.filter(
  (t) => t !== 'send_mail' && t !== 'create_event',
);

/** The signed-in user's Graph profile, as `/me` returns it. */
export interface GraphUser {
  id: string;
  displayName?: string | null;
  givenName?: string | null;
  surname?: string | null;
  userPrincipalName?: string | null;
  mail?: string | null;
  jobTitle?: string | null;
  officeLocation?: string | null;
  businessPhones?: string[];
  mobilePhone?: string | null;
  preferredLanguage?: string | null;
}

/** What a tool can do while it runs: Graph as the key's account, with the tool's own scopes. */
export interface ToolContext {
  /** The account the calling key acts as. */
  account: AccountSummary;
  /** Calls Graph with a token for this tool's scopes; the token never reaches the tool. */
  graph<T>(request: Omit<GraphRequest, 'token' | 'scopes' | 'signal'>): Promise<GraphResponse<T>>;
  /** The account's `/me` profile, cached per account. */
  me(): Promise<GraphUser>;
  /** The Graph scopes this account has consented to so far (from the token cache). */
  grantedScopes(): Promise<string[]>;
  /** Aborted when the client cancels the call. */
  signal: AbortSignal;
  now(): Date;
}

/** A tool: contract name, description for the model, schemas, hints, Graph scopes and behaviour. */
export interface ToolDefinition<
  I extends z.ZodObject = z.ZodObject,
  O extends z.ZodObject = z.ZodObject,
> {
  name: ToolName;
  title: string;
  description: string;
  /** `write` tools change data (send, create) and need approval (policy issue). */
  kind: 'read' | 'write';
  /** Delegated Graph permissions the tool's token must carry. */
  scopes: string[];
  annotations: {
    readOnlyHint: boolean;
    destructiveHint: boolean;
    openWorldHint: boolean;
    idempotentHint?: boolean;
  };
  input: I;
  output: O;
  run(input: z.infer<I>, ctx: ToolContext): Promise<z.infer<O>>;
  /**
   * What the call will do, faithfully, for the person approving it (recipients, subject, the
   * first lines of the body, the event time). Shown to the user only: never logged or audited.
   */
  describe?(input: z.infer<I>): {
    action: string;
    summary: Array<{ label: string; value: string }>;
  };
  /** The arguments as the audit log keeps them: never bodies, file contents or secrets. */
  auditArgs?(input: z.infer<I>): Record<string, unknown>;
}

/** The MCP hints of a tool that only reads Graph: safe to call, to repeat, and to call again. */
export const READ_GRAPH_HINTS = {
  readOnlyHint: true,
  destructiveHint: false,
  openWorldHint: true,
  idempotentHint: true,
} as const;

/** The MCP hints of a tool that sends or creates something in Graph: not to be repeated blindly. */
export const WRITE_GRAPH_HINTS = {
  readOnlyHint: false,
  destructiveHint: true,
  openWorldHint: true,
  idempotentHint: false,
} as const;

/** Declares a tool with its input and output types checked against its schemas. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(
  tool: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return tool;
}
