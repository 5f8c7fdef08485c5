import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ApprovalOutcome, ApprovalService } from '../approvals/approval-service.ts';
import type { AuditActor, AuditEvent } from '../audit/audit-types.ts';
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
import { visible } from './tools/approval-text.ts';

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
 * Why a record could not be written, and what to do. The audit log's own errors already name
 * the folder, the cause and the fix; anything else gets the usual causes' fix.
 */
function auditFailure(err: unknown): string {
  const why = isValetError(err, 'audit_failed')
    ? err.message
    : `The audit record could not be written (${describeError(err)}): make room on the disk of the MCP Valet data folder or make it writable`;
  return `${why}. Then check the log with \`mcp-valet audit verify\``;
}

/** Longest name of an unknown tool kept in the audit log and the live log. */
const MAX_UNKNOWN_NAME = 128;

/** One call as it goes: what its audit records will say, and whether the tool started. */
interface CallState {
  name: string;
  caller: Caller;
  account?: AccountSummary;
  /** The tool_call record's details; the tool_intent record takes its args and approval. */
  details: Record<string, unknown>;
  graphRequestIds: string[];
  ran: boolean;
}

/**
 * Runs one tool call for a caller: the policy decides (key's tools, read-only, global
 * switches, Entra app roles), then the arguments are checked, risky calls wait for the user's
 * approval, the tool runs with a token for exactly its scopes as the key's account, and the
 * outcome is in the audit log before the result goes back. Auditing fails closed: a call whose
 * record cannot be written gives an error and no result, and a tool that changes data runs only
 * once a record of the intent is written. Failures become `isError` results a person can act on.
 */
export class ToolRunner {
  readonly #deps: ToolRunnerDeps;

  constructor(deps: ToolRunnerDeps) {
    this.#deps = deps;
  }

  /**
   * Runs `tool` (or refuses the name of a tool that does not exist) for `caller`. Aborting
   * `signal` (the client cancelled or hung up) ends a wait for approval and stops the call.
   */
  async call(
    tool: ToolDefinition | string,
    args: unknown,
    caller: Caller,
    signal: AbortSignal,
    extras: CallExtras = {},
  ): Promise<CallToolResult> {
    const started = performance.now();
    const known = typeof tool === 'string' ? undefined : tool;
    const name = known?.name ?? (tool as string).slice(0, MAX_UNKNOWN_NAME);
    const state: CallState = {
      name,
      caller,
      details: { tool: name },
      graphRequestIds: [],
      ran: false,
    };
    let result: CallToolResult;
    let outcome: ToolCallRecord['outcome'] = 'ok';
    let errorCode: string | undefined;
    try {
      result = await this.#run(known, args, state, signal, extras);
    } catch (err) {
      errorCode = isValetError(err) ? err.code : 'unexpected';
      const denied = errorCode === 'policy_denied' || errorCode.startsWith('approval_');
      outcome = denied ? 'denied' : 'failed';
      const text = isValetError(err)
        ? err.message
        : `${name} failed unexpectedly: ${describeError(err)}`;
      result = { isError: true, content: [{ type: 'text', text }] };
    }
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    const record: ToolCallRecord = {
      tool: name,
      keyId: caller.key.id,
      keyName: caller.key.name,
      account: state.account?.username,
      client: clientOf(caller),
      outcome,
      ...(errorCode ? { errorCode } : {}),
      durationMs,
      graphRequestIds: state.graphRequestIds,
    };
    const { details } = state;
    details.durationMs = durationMs;
    details.graphRequestIds = state.graphRequestIds;
    if (errorCode) details.error = errorCode;
    try {
      await this.#deps.audit({
        type: 'tool_call',
        actor: actorOf(state),
        outcome: outcome === 'ok' ? 'allowed' : outcome,
        details,
      });
    } catch (err) {
      this.#logger.error(`could not write the audit record of a tool_call: ${describeError(err)}`);
      this.#deps.onCall?.({ ...record, outcome: 'failed', errorCode: 'audit_failed' });
      const text = state.ran
        ? `${name} ran, but its result is withheld because the call could not be audited. ${auditFailure(err)}`
        : `${name} was not run, and the call could not be audited. ${auditFailure(err)}`;
      return { isError: true, content: [{ type: 'text', text }] };
    }
    this.#deps.onCall?.(record);
    return result;
  }

  /** Policy, arguments, account, approval, intent, then the tool; throws what refuses the call. */
  async #run(
    tool: ToolDefinition | undefined,
    args: unknown,
    state: CallState,
    signal: AbortSignal,
    extras: CallExtras,
  ): Promise<CallToolResult> {
    const { name, caller, details } = state;
    const { key } = caller;
    const account = await this.#deps.auth.resolveAccount(key.account?.homeAccountId);
    state.account = account;
    const policy = await this.#deps.policy();
    const decision = decide({
      toolName: name,
      tool,
      key,
      roles: account?.roles ?? [],
      account: account?.username ?? 'the signed-in account',
      policy,
    });
    if (!decision.allowed) {
      details.rule = decision.rule;
      throw new ValetError('policy_denied', decision.message);
    }
    // decide() allows only a tool that exists.
    const run = tool as ToolDefinition;
    const parsed = run.input.safeParse(args ?? {});
    if (!parsed.success) throw invalidArguments(name, describeIssues(parsed.error));
    const input = parsed.data as Record<string, unknown>;
    details.args = auditArgs(run, input);
    if (!account) {
      throw new ValetError(
        'no_account',
        key.account
          ? `The account ${key.account.username} of valet key '${key.name}' is not signed in: run \`mcp-valet login\` and sign in as ${key.account.username}`
          : 'Nobody is signed in to MCP Valet: run `mcp-valet login` or sign in from the app',
      );
    }
    if (decision.approval) {
      const approval = await this.#approve(run, input, caller, account, policy, signal, extras);
      details.approval = approval;
      const refusal = APPROVAL_MESSAGES[approval];
      if (refusal)
        throw new ValetError(`approval_${approval}`, refusal(name, policy.approvalTimeoutSeconds));
    }
    if (signal.aborted) {
      throw new ValetError('cancelled', `The call to ${name} was cancelled before it ran`);
    }
    if (run.kind === 'write') await this.#intent(state);
    state.ran = true;
    const output = await run.run(
      input as never,
      this.#context(run, account, signal, state.graphRequestIds),
    );
    const checked = run.output.safeParse(output);
    if (!checked.success) {
      throw new ValetError(
        'invalid_output',
        `${name} made a result that does not match its output schema (${describeIssues(checked.error)}), so it is not returned: please report this bug in MCP Valet`,
      );
    }
    return {
      content: [{ type: 'text', text: JSON.stringify(output) }],
      structuredContent: output as Record<string, unknown>,
    };
  }

  /** Records that a tool is about to change data; the tool does not run unless this is written. */
  async #intent(state: CallState): Promise<void> {
    const { name, details } = state;
    try {
      await this.#deps.audit({
        type: 'tool_intent',
        actor: actorOf(state),
        outcome: 'pending',
        details: {
          tool: name,
          args: details.args,
          ...(details.approval ? { approval: details.approval } : {}),
        },
      });
    } catch (err) {
      this.#logger.error(
        `could not write the audit record of a tool_intent: ${describeError(err)}`,
      );
      throw new ValetError(
        'audit_failed',
        `${name} was not run, because what it was about to do could not be audited first. ${auditFailure(err)}`,
      );
    }
  }

  get #logger(): Logger {
    return this.#deps.logger ?? silentLogger;
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
          // The client names itself in `initialize`: shown to the user, so marked like the rest.
          client: caller.client
            ? { name: shownName(caller.client.name), version: shownName(caller.client.version) }
            : null,
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

/** A client's own name for the approval prompt: invisible characters marked, and bounded. */
function shownName(text: string): string {
  const marked = visible(text);
  return marked.length > 80 ? `${marked.slice(0, 80)}…` : marked;
}

/** The client as the audit log names it, e.g. `Claude 1.0.0`. */
function clientOf(caller: Caller): string | undefined {
  return caller.client ? `${caller.client.name} ${caller.client.version}` : undefined;
}

/** Who made the call, for its audit records: the key, its account and its client. */
function actorOf(state: CallState): AuditActor {
  const client = clientOf(state.caller);
  return {
    keyId: state.caller.key.id,
    keyName: state.caller.key.name,
    ...(state.account ? { account: state.account.username } : {}),
    ...(client ? { client } : {}),
  };
}
