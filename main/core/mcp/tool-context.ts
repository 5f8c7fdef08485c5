import type { AccountSummary } from '../auth/auth-types.ts';
import type { ToolRunnerDeps } from './call-types.ts';
import type { GraphUser, ToolContext, ToolDefinition } from './tool-definition.ts';

const systemClock = () => new Date();

/**
 * What a tool gets to work with: Graph with a token for exactly its scopes as the call's
 * account, the cached profile, the granted scopes and the clock. Graph's request ids go to
 * `requestIds` for the audit record.
 */
export function toolContext(
  deps: Pick<ToolRunnerDeps, 'auth' | 'graph' | 'meCache' | 'now'>,
  tool: ToolDefinition,
  account: AccountSummary,
  signal: AbortSignal,
  requestIds: string[],
): ToolContext {
  const { auth, graph, meCache } = deps;
  const call = async <T>(request: Parameters<ToolContext['graph']>[0]) => {
    const token = await auth.getToken({ account: account.homeAccountId, scopes: tool.scopes });
    const response = await graph.request<T>({
      ...request,
      token: token.accessToken,
      scopes: tool.scopes,
      user: account.homeAccountId,
      signal,
    });
    if (response.requestId) requestIds.push(response.requestId);
    return response;
  };
  return {
    account,
    signal,
    now: deps.now ?? systemClock,
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
