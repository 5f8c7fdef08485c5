import type { ApprovalOutcome } from '../approvals/approval-service.ts';
import type { AccountSummary } from '../auth/auth-types.ts';
import type { Policy } from '../policy/policy-schema.ts';
import { approvalSummary } from './call-summary.ts';
import type { ApprovalRequester, CallExtras, Caller } from './call-types.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { visible } from './tools/approval-text.ts';

/** What a call that was not approved tells the client, by how the approval ended. */
export const APPROVAL_MESSAGES: Partial<
  Record<ApprovalOutcome, (tool: string, seconds: number) => string>
> = {
  denied: (tool) => `The user denied ${tool} in MCP Valet: it was not run`,
  'timed-out': (tool, seconds) =>
    `No one approved ${tool} in MCP Valet within ${seconds} seconds, so it was not run: ask the user to approve it in the app (or \`mcp-valet approvals approve\`) and try again`,
  cancelled: (tool) => `The call to ${tool} was cancelled while it waited for approval`,
};

/** Asks the user to approve a call, telling a client that asked for progress that it waits. */
export async function requestApproval(
  approvals: ApprovalRequester,
  tool: ToolDefinition,
  input: Record<string, unknown>,
  call: { caller: Caller; account: AccountSummary; policy: Policy; signal: AbortSignal },
  extras: CallExtras,
): Promise<ApprovalOutcome> {
  const { caller, account, policy, signal } = call;
  const { action, summary } = approvalSummary(tool, input);
  // Some clients give up on a quiet request; progress notifications tell them it is alive.
  let waiting = `Waiting for approval of ${tool.name} in MCP Valet`;
  const tell = () => void extras.progress?.(waiting).catch(() => undefined);
  const heartbeat = extras.progress ? setInterval(tell, 10_000) : undefined;
  try {
    return await approvals.request(
      {
        tool: tool.name,
        action,
        key: { id: caller.key.id, name: caller.key.name },
        // The client names itself in `initialize`: shown to the user, so marked like the rest.
        client: caller.client
          ? { name: shownName(caller.client.name), version: shownName(caller.client.version) }
          : null,
        account: account.username,
        summary,
      },
      policy.approvalTimeoutSeconds * 1000,
      signal,
      {
        args: input,
        waitingAt: (message) => {
          waiting = message;
          tell();
        },
      },
    );
  } finally {
    clearInterval(heartbeat);
  }
}

/** A client's own name for the approval prompt: invisible characters marked, and bounded. */
function shownName(text: string): string {
  const marked = visible(text);
  return marked.length > 80 ? `${marked.slice(0, 80)}…` : marked;
}
