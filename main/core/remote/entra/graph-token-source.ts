import type { AuthService } from '../../auth/auth-service.ts';

/** A Graph access token for one tool call; it goes to Graph and nowhere else. */
export interface GraphToken {
  accessToken: string;
  expiresOn: Date;
  scopes: string[];
  fromCache: boolean;
}

/**
 * Where a tool call gets its Graph tokens, for exactly the tool's scopes: the signed-in
 * account on the desktop, an on-behalf-of exchange of the caller's token in entra mode. The
 * tools' context asks it and never learns which.
 */
export interface GraphTokenSource {
  getToken(request: { scopes: string[]; forceRefresh?: boolean }): Promise<GraphToken>;
}

/** The desktop's source: silent tokens of one account from the auth service. */
export function accountTokenSource(
  auth: Pick<AuthService, 'getToken'>,
  homeAccountId: string,
): GraphTokenSource {
  return {
    getToken: async (request) => {
      const token = await auth.getToken({ ...request, account: homeAccountId });
      return {
        accessToken: token.accessToken,
        expiresOn: token.expiresOn,
        scopes: token.scopes,
        fromCache: token.fromCache,
      };
    },
  };
}
