import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuthService } from '../auth/auth-service.ts';
import type { AccountSummary } from '../auth/auth-types.ts';
import type { GraphClient } from '../graph/graph-client.ts';
import type { MeCache } from '../graph/me-cache.ts';
import type { ValetKey } from '../keys/key-store.ts';
import { describeError, isValetError, ValetError } from '../util/valet-error.ts';
import type { GraphUser, ToolContext, ToolDefinition } from './tool-definition.ts';
import { describeIssues, invalidArguments } from './tools/tool-input.ts';

/** Who is calling: the valet key of this request, and what the client said it is. */
export interface Caller {
  key: ValetKey;
  client?: { name: string; version: string };
  sessionId?: string;
}

/** What happened in one tool call, for the audit log and the activity view. No arguments, no results. */
export interface ToolCallRecord {
  tool: string;
  keyId: string;
  keyName: string;
  account: string | undefined;
  outcome: 'ok' | 'denied' | 'failed';
  errorCode?: string;
  durationMs: number;
  /** Graph's request-id of every Graph request the call made. */
  graphRequestIds: string[];
}

/** The runner's collaborators. */
export interface ToolRunnerDeps {
  auth: AuthService;
  graph: GraphClient;
  meCache: MeCache<GraphUser>;
  /** Told about every finished call. */
  onCall?: (record: ToolCallRecord) => void;
  now?: () => Date;
}

/**
 * Runs one tool call for a caller: checks the key may call the tool, resolves the key's
 * account, hands the tool a Graph that acquires a token for exactly the tool's scopes, and
 * turns any failure into an `isError` result a person can act on (never a stack trace).
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
  ): Promise<CallToolResult> {
    const started = performance.now();
    const requestIds: string[] = [];
    let account: AccountSummary | undefined;
    const finish = (outcome: ToolCallRecord['outcome'], errorCode?: string) =>
      this.#deps.onCall?.({
        tool: tool.name,
        keyId: caller.key.id,
        keyName: caller.key.name,
        account: account?.username,
        outcome,
        ...(errorCode ? { errorCode } : {}),
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        graphRequestIds: requestIds,
      });
    try {
      if (!caller.key.tools.includes(tool.name)) {
        throw new ValetError(
          'tool_not_allowed',
          `The valet key '${caller.key.name}' may not call ${tool.name}; it may call ${caller.key.tools.join(', ') || 'no tools'}. Create a key that includes it: \`mcp-valet keys create --name <name> --tools ${tool.name}\``,
        );
      }
      if (caller.key.readOnly && tool.kind === 'write') {
        throw new ValetError(
          'tool_not_allowed',
          `The valet key '${caller.key.name}' is read-only, so it may not call ${tool.name}, which changes data`,
        );
      }
      // The MCP server validates too, but not every caller comes through it, and tools rely on
      // parsed input (bounds checked, defaults filled in).
      const input = tool.input.safeParse(args ?? {});
      if (!input.success) throw invalidArguments(tool.name, describeIssues(input.error));
      account = await this.#deps.auth.resolveAccount(caller.key.account?.homeAccountId);
      if (!account) {
        throw new ValetError(
          'no_account',
          caller.key.account
            ? `The account ${caller.key.account.username} of valet key '${caller.key.name}' is not signed in: run \`mcp-valet login\` and sign in as ${caller.key.account.username}`
            : 'Nobody is signed in to MCP Valet: run `mcp-valet login` or sign in from the app',
        );
      }
      const output = await tool.run(input.data, this.#context(tool, account, signal, requestIds));
      finish('ok');
      return {
        content: [{ type: 'text', text: JSON.stringify(output) }],
        structuredContent: output as Record<string, unknown>,
      };
    } catch (err) {
      const code = isValetError(err) ? err.code : 'unexpected';
      finish(code === 'tool_not_allowed' ? 'denied' : 'failed', code);
      const text = isValetError(err)
        ? err.message
        : `${tool.name} failed unexpectedly: ${describeError(err)}`;
      return { isError: true, content: [{ type: 'text', text }] };
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
