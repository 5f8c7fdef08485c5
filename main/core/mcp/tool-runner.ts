import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuditStamp } from '../audit/audit-types.ts';
import { decide } from '../policy/policy-engine.ts';
import type { Logger } from '../util/logger.ts';
import { silentLogger } from '../util/logger.ts';
import { describeError, isValetError, ValetError } from '../util/valet-error.ts';
import { auditFailure, clientOf } from './call-audit.ts';
import { APPROVAL_MESSAGES, requestApproval } from './call-approval.ts';
import { toolCallAudit, toolIntentAudit, type ToolCallRecord } from './call-record.ts';
import { auditArgs } from './call-summary.ts';
import type { CallExtras, Caller, CallState, ToolRunnerDeps } from './call-types.ts';
import { toolContext } from './tool-context.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { describeIssues, invalidArguments } from './tools/tool-input.ts';

export type { CallExtras, Caller, ToolCallRecord, ToolRunnerDeps } from './call-types.ts';

/** Longest name of an unknown tool kept in the audit log and the live log. */
const MAX_UNKNOWN_NAME = 128;

/**
 * Runs one tool call for a caller: the policy decides (key's tools, read-only, global
 * switches, Entra app roles), then the arguments are checked, risky calls wait for the user's
 * approval, the tool runs with a token for exactly its scopes as the key's account, and the
 * outcome is in the audit log before the result goes back. Auditing fails closed: a call whose
 * record cannot be written gives an error and no result, and a tool that changes data runs only
 * once a record of the intent is written. Failures become `isError` results a person can act on.
 * Each call fills in one ToolCallRecord as it goes; its audit records are made from it, and
 * the owner is told of it (with where the log put it) once it is written.
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
    const record: ToolCallRecord = {
      tool: name,
      keyId: caller.key.id,
      keyName: caller.key.name,
      account: undefined,
      client: clientOf(caller),
      outcome: 'ok',
      durationMs: 0,
      graphRequestIds: [],
    };
    const state: CallState = { record, caller, ran: false };
    let result: CallToolResult;
    try {
      result = await this.#run(known, args, state, signal, extras);
    } catch (err) {
      const code = isValetError(err) ? err.code : 'unexpected';
      record.errorCode = code;
      record.outcome =
        code === 'policy_denied' || code.startsWith('approval_') ? 'denied' : 'failed';
      const text = isValetError(err)
        ? err.message
        : `${name} failed unexpectedly: ${describeError(err)}`;
      result = { isError: true, content: [{ type: 'text', text }] };
    }
    record.durationMs = Math.round((performance.now() - started) * 100) / 100;
    let written: AuditStamp | void;
    try {
      written = await this.#deps.audit(toolCallAudit(record));
    } catch (err) {
      this.#logger.error(`could not write the audit record of a tool_call: ${describeError(err)}`);
      record.outcome = 'failed';
      record.errorCode = 'audit_failed';
      this.#deps.onCall?.(record, undefined);
      const text = state.ran
        ? `${name} ran, but its result is withheld because the call could not be audited. ${auditFailure(err)}`
        : `${name} was not run, and the call could not be audited. ${auditFailure(err)}`;
      return { isError: true, content: [{ type: 'text', text }] };
    }
    this.#deps.onCall?.(record, written ?? undefined);
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
    const { record, caller } = state;
    const name = record.tool;
    const { key } = caller;
    const account = await this.#deps.auth.resolveAccount(key.account?.homeAccountId);
    state.account = account;
    record.account = account?.username;
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
      record.rule = decision.rule;
      throw new ValetError('policy_denied', decision.message);
    }
    // decide() allows only a tool that exists.
    const run = tool as ToolDefinition;
    const parsed = run.input.safeParse(args ?? {});
    if (!parsed.success) throw invalidArguments(name, describeIssues(parsed.error));
    const input = parsed.data as Record<string, unknown>;
    record.args = auditArgs(run, input);
    if (!account) {
      throw new ValetError(
        'no_account',
        key.account
          ? `The account ${key.account.username} of valet key '${key.name}' is not signed in: run \`mcp-valet login\` and sign in as ${key.account.username}`
          : 'Nobody is signed in to MCP Valet: run `mcp-valet login` or sign in from the app',
      );
    }
    if (decision.approval) {
      const approval = await requestApproval(
        this.#deps.approvals,
        run,
        input,
        { caller, account, policy, signal },
        extras,
      );
      record.approval = approval;
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
      toolContext(this.#deps, run, account, signal, record.graphRequestIds),
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
    const { record } = state;
    try {
      await this.#deps.audit(toolIntentAudit(record));
    } catch (err) {
      this.#logger.error(
        `could not write the audit record of a tool_intent: ${describeError(err)}`,
      );
      throw new ValetError(
        'audit_failed',
        `${record.tool} was not run, because what it was about to do could not be audited first. ${auditFailure(err)}`,
      );
    }
  }

  get #logger(): Logger {
    return this.#deps.logger ?? silentLogger;
  }
}
