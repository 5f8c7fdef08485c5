import type { AccessToken, AccountSummary, TokenFreshness } from '../../auth/auth-types.ts';
import type { AccountTokens } from '../../mcp/call-types.ts';
import { ValetError } from '../../util/valet-error.ts';
import type { GraphTokenSource } from '../entra/graph-token-source.ts';
import type { RemoteIdentity } from './remote-identity.ts';

/** Where one request's Graph tokens come from, and what else the runner asks of its account. */
export interface RemoteGraphAccess {
  tokens: GraphTokenSource;
  /** The user's app roles: the ID token's (valet mode) or the access token's (entra mode). */
  roles(): Promise<string[]>;
  /** Which Graph scopes hold a token now (auth_status); never the tokens. */
  granted(): Promise<TokenFreshness[]>;
  /**
   * Starts reading what a tool call will need (the user's sealed token cache) at once, so that
   * the read travels with the request's other reads instead of after them.
   */
  warm?(): void;
}

/**
 * The runner's account for one remote request: the request's user and nobody else. The
 * runner asks for the account its key names; a key naming anyone else gets no account (and
 * so no call), which cannot happen unless a key is built wrong.
 */
export function remoteAccount(identity: RemoteIdentity, access: RemoteGraphAccess): AccountTokens {
  const { principal } = identity;
  const homeAccountId = principal.homeAccountId ?? '';
  let summary: Promise<AccountSummary> | undefined;
  const account = () =>
    (summary ??= access.roles().then((roles) => ({
      homeAccountId,
      username: identity.username,
      name: identity.name,
      tenantId: principal.tid,
      roles,
      viaBroker: false,
      active: true,
    })));
  const mine = (ref: string | undefined) => ref === undefined || ref === homeAccountId;
  return {
    resolveAccount: async (ref) => (mine(ref) ? account() : undefined),
    getToken: async (request): Promise<AccessToken> => {
      if (!mine(request.account))
        throw new ValetError('no_account', 'This call may act only as the user who made it');
      const token = await access.tokens.getToken({
        scopes: request.scopes,
        ...(request.forceRefresh ? { forceRefresh: true } : {}),
      });
      return { ...token, account: await account() };
    },
    tokenFreshness: async (ref) => (mine(ref) ? access.granted() : []),
  };
}
