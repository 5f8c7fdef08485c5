import type { AccountInfo, AuthenticationResult } from '@azure/msal-node';
import { tokenFreshness } from '../../auth/cache-inspect.ts';
import { ValetError } from '../../util/valet-error.ts';
import {
  explainOnBehalfOfError,
  GraphGrantRequiredError,
  grantUrl,
} from '../entra/graph-grant-error.ts';
import type { GraphToken } from '../entra/graph-token-source.ts';
import { createWebMsal, type WebMsalConfig } from '../web/web-msal.ts';
import type { RemoteGraphAccess } from './remote-account.ts';

/**
 * Valet mode's Graph access for one request: the signed-in user's own token cache, sealed in
 * the store since their web sign-in, read by a confidential client made for this request (the
 * configured credential, the authority's metadata preloaded). Tokens come silently, for
 * exactly the tool's scopes; when the user must consent to a scope or sign in again, the error
 * carries the `<public>/auth/grant` link that does it.
 */
export function userGraphAccess(
  config: WebMsalConfig,
  publicUrl: string,
  homeAccountId: string,
): RemoteGraphAccess {
  const msal = createWebMsal(config, homeAccountId);
  let account: Promise<AccountInfo | null> | undefined;
  const signedIn = () => (account ??= msal.getTokenCache().getAccountByHomeId(homeAccountId));
  const needSignIn = (scopes: string[]) =>
    new GraphGrantRequiredError('interaction_required', scopes, grantUrl(publicUrl, scopes));
  return {
    tokens: {
      getToken: async ({ scopes, forceRefresh }): Promise<GraphToken> => {
        if (config.authorityMetadata() === undefined)
          throw new ValetError(
            'authority_unavailable',
            "The authority's OpenID configuration is not loaded yet, so Microsoft Graph cannot be called: try again once the server is ready",
          );
        const user = await signedIn();
        // The user's cache is gone (expired after months unused, or dropped as damaged).
        if (!user) throw needSignIn(scopes);
        let result: AuthenticationResult;
        try {
          result = await msal.acquireTokenSilent({
            account: user,
            scopes,
            ...(forceRefresh ? { forceRefresh: true } : {}),
          });
        } catch (err) {
          throw explainOnBehalfOfError(err, scopes, publicUrl);
        }
        if (!result.accessToken) throw needSignIn(scopes);
        return {
          accessToken: result.accessToken,
          expiresOn: result.expiresOn ?? new Date(Date.now() + 60_000),
          scopes: result.scopes,
          fromCache: result.fromCache,
        };
      },
    },
    roles: async () => {
      const roles = (await signedIn())?.idTokenClaims?.roles;
      return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
    },
    granted: async () => {
      await signedIn();
      return tokenFreshness(msal.getTokenCache().serialize(), homeAccountId);
    },
  };
}
