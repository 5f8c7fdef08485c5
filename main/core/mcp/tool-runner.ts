import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ApprovalOutcome, ApprovalService } from '../approvals/approval-service.ts';
import type { AuditEvent } from '../audit/audit-types.ts';
import type { AuthService } from '../auth/auth-service.ts';
import type { AccountSummary } from '../auth/auth-types.ts';
import type { GraphClient } from '../graph/graph-client.ts';
import type { MeCache } from '../graph/me-cache.ts';
import type { ValetKey } from '../keys/key-store.ts';
import { decide } from '../policy/policy-engine.ts';
import type { Policy } from '../policy/policy-schema.ts';
import type { Logger } from '../util/logger.ts';
import { silentLogger } from '../util/logger.ts';
import { describeError, isValetError, ValetError } from '../util/valet-error.ts';
import { approvalSummary, auditArgs } from './call-summary.ts';
import type { GraphUser, ToolContext, ToolDefinition } from './tool-definition.ts';
import { describeIssues, invalidArguments } from './tools/tool-input.ts';

/** Who is calling: the valet key of this request, and what the client said it is. */
export interface Caller {
  key: ValetKey;
  client?: { name: string; version: string };
  sessionId?: string;
}

/** What happened in one tool call, for the live log and the activity view. No arguments, no results. */
export interface ToolCallRecord {
  tool: string;
  keyId: string;
  keyName: string;
  account: string | undefined;
  client: string | undefined;
  outcome: 'ok' | 'denied' | 'failed';
  errorCode?: string;
  durationMs: number;
  /** Graph's request-id of every Graph request the call made. */
  graphRequestIds: string[];
}

/** Optional extras of a call from the MCP layer. */
export interface CallExtras {
  /** Sends a progress notification while the call waits for approval (when the client asked for progress). */
  progress?: (message: string) => Promise<void>;
}

/** The runner's collaborators. */
export interface ToolRunnerDeps {
  auth: AuthService;
  graph: GraphClient;
  meCache: MeCache<GraphUser>;
  policy: () => Promise<Policy>;
  approvals: ApprovalService;
  /** Resolves once the record is written; the result waits for it. */
  audit: (event: AuditEvent) => Promise<void>;
  /** Told about every finished call. */
  onCall?: (record: ToolCallRecord) => void;
  logger?: Logger;
  now?: () => Date;
}

const APPROVAL_MESSAGES: Partial<
  Record<ApprovalOutcome, (tool: string, seconds: number) => string>
> = {
  denied: (tool) => `The user denied ${tool} in MCP Valet: it was not run`,
  'timed-out': (tool, seconds) =>
    `No one approved ${tool} in MCP Valet within ${seconds} seconds, so it was not run: ask the user to approve it in the app (or \`mcp-valet approvals approve\`) and try again`,
  cancelled: (tool) => `The call to ${tool} was cancelled while it waited for approval`,
};

/**
 * Runs one tool call for a caller: the policy decides (key's tools, read-only, global
 * switches, Entra app roles), risky calls wait for the user's approval, the tool runs with
 * a token for exactly its scopes as the key's account, and the outcome is in the audit log
 * before the result goes back. Failures become `isError` results a person can act on.
 */
export class ToolRunner {
  readonly #deps: ToolRunnerDeps;

  constructor(deps: ToolRunnerDeps) {
    this.#deps = deps;
  }

  async call(
    tool: ToolDefinition,
    args: unknown,
    caller: Caller,
    signal: AbortSignal,
    extras: CallExtras = {},
  ): Promise<CallToolResult> {
    const started = performance.now();
    const requestIds: string[] = [];
    const { key } = caller;
    const client = caller.client ? `${caller.client.name} ${caller.client.version}` : undefined;
    let account: AccountSummary | undefined;
    let details: Record<string, unknown> = { tool: tool.name };
    const finish = async (outcome: ToolCallRecord['outcome'], errorCode?: string) => {
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      const record: ToolCallRecord = {
        tool: tool.name,
        keyId: key.id,
        keyName: key.name,
        account: account?.username,
        client,
        outcome,
        ...(errorCode ? { errorCode } : {}),
        durationMs,
        graphRequestIds: requestIds,
      };
      await this.#audit({
        type: 'tool_call',
        actor: {
          keyId: key.id,
          keyName: key.name,
          ...(account ? { account: account.username } : {}),
          ...(client ? { client } : {}),
        },
        outcome: outcome === 'ok' ? 'allowed' : outcome,
        details: {
          ...details,
          durationMs,
          graphRequestIds: requestIds,
          ...(errorCode ? { error: errorCode } : {}),
        },
      });
      this.#deps.onCall?.(record);
    };
    try {
      account = await this.#deps.auth.resolveAccount(key.account?.homeAccountId);
      const policy = await this.#deps.policy();
      const decision = decide({
        toolName: tool.name,
        tool,
        key,
        roles: account?.roles ?? [],
        account: account?.username ?? 'the signed-in account',
        policy,
      });
      if (!decision.allowed) {
        details = { ...details, rule: decision.rule };
        throw new ValetError('policy_denied', decision.message);
      }
      const parsed = tool.input.safeParse(args ?? {});
      if (!parsed.success) throw invalidArguments(tool.name, describeIssues(parsed.error));
      const input = parsed.data as Record<string, unknown>;
      details = { ...details, args: auditArgs(tool, input) };
      if (!account) {
        throw new ValetError(
          'no_account',
          key.account
            ? `The account ${key.account.username} of valet key '${key.name}' is not signed in: run \`mcp-valet login\` and sign in as ${key.account.username}`
            : 'Nobody is signed in to MCP Valet: run `mcp-valet login` or sign in from the app',
        );
      }
      if (decision.approval) {
        const outcome = await this.#approve(tool, input, caller, account, policy, signal, extras);
        details = { ...details, approval: outcome };
        const refusal = APPROVAL_MESSAGES[outcome];
        if (refusal)
          throw new ValetError(
            `approval_${outcome}`,
            refusal(tool.name, policy.approvalTimeoutSeconds),
          );
      }
      const output = await tool.run(
        input as never,
        this.#context(tool, account, signal, requestIds),
      );
      await finish('ok');
      return {
        content: [{ type: 'text', text: JSON.stringify(output) }],
        structuredContent: output as Record<string, unknown>,
      };
    } catch (err) {
      const code = isValetError(err) ? err.code : 'unexpected';
      const denied = code === 'policy_denied' || code.startsWith('approval_');
      await finish(denied ? 'denied' : 'failed', code);
      const text = isValetError(err)
        ? err.message
        : `${tool.name} failed unexpectedly: ${describeError(err)}`;
      return { isError: true, content: [{ type: 'text', text }] };
    }
  }

  async #approve(
    tool: ToolDefinition,
    input: Record<string, unknown>,
    caller: Caller,
    account: AccountSummary,
    policy: Policy,
    signal: AbortSignal,
    extras: CallExtras,
  ): Promise<ApprovalOutcome> {
    const { action, summary } = approvalSummary(tool, input);
    // Some clients give up on a quiet request; progress notifications tell them it is alive.
    const heartbeat = extras.progress
      ? setInterval(
          () =>
            void extras
              .progress?.(`Waiting for approval of ${tool.name} in MCP Valet`)
              .catch(() => undefined),
          10_000,
        )
      : undefined;
    try {
      return await this.#deps.approvals.request(
        {
          tool: tool.name,
          action,
          key: { id: caller.key.id, name: caller.key.name },
          client: caller.client ?? null,
          account: account.username,
          summary,
        },
        policy.approvalTimeoutSeconds * 1000,
        signal,
      );
    } finally {
      clearInterval(heartbeat);
    }
  }

  async #audit(event: AuditEvent): Promise<void> {
    try {
      await this.#deps.audit(event);
    } catch (err) {
      (this.#deps.logger ?? silentLogger).error(
        `could not write the audit record of a ${event.type}: ${describeError(err)}`,
      );
    }
  }

  #context(
    tool: ToolDefinition,
    account: AccountSummary,
    signal: AbortSignal,
    requestIds: string[],
  ): ToolContext {
    const { auth, graph, meCache } = this.#deps;
    const call = async <T>(request: Parameters<ToolContext['graph']>[0]) => {
      const token = await auth.getToken({ account: account.homeAccountId, scopes: tool.scopes });
      const response = await graph.request<T>({
        ...request,
        token: token.accessToken,
        scopes: tool.scopes,
        signal,
      });
      if (response.requestId) requestIds.push(response.requestId);
      return response;
    };
    return {
      account,
      signal,
      now: this.#deps.now ?? (() => new Date()),
      graph: call,
      me: async () =>
        (
          await meCache.get(
            account.homeAccountId,
            async () => (await call<GraphUser>({ path: '/me' })).data,
          )
        ).value,
      grantedScopes: async () =>
        [
          ...new Set((await auth.tokenFreshness(account.homeAccountId)).flatMap((t) => t.scopes)),
        ].sort(),
    };
  }
}
