import { PublicClientApplication } from '@azure/msal-node';
import type { AccountInfo } from '@azure/msal-node';
import type { SharedStore } from '../../main/core/remote/store/shared-store.ts';
import type { IdpUser, RunningIdp } from '../../main/demo/idp/index.ts';
import { msalAuthFor } from './idp.ts';

/** A user signed in to a public client (as VS Code is), who can get more tokens silently. */
export interface SignedInClient {
  /** The access token of the first sign-in. */
  accessToken: string;
  /** The ID token of the first sign-in, issued to the client. */
  idToken: string;
  account: AccountInfo;
  /** Another token for the same user and client, from the refresh token. */
  token(scopes: string[], forceRefresh?: boolean): Promise<string>;
}

/** Signs a user in to a public client by device code, approved at the IdP as the user. */
export async function signInByDeviceCode(
  idp: RunningIdp,
  clientId: string,
  user: IdpUser,
  scopes: string[],
): Promise<SignedInClient> {
  const pca = new PublicClientApplication({ auth: msalAuthFor(idp, clientId) });
  let approved: Promise<void> | undefined;
  const result = await pca.acquireTokenByDeviceCode({
    scopes,
    deviceCodeCallback: (response) => {
      approved = idp.approveDeviceCode(response.userCode, user.username);
    },
  });
  await approved;
  if (!result?.account) throw new Error(`No device code result for ${user.username}`);
  const account = result.account;
  return {
    accessToken: result.accessToken,
    idToken: result.idToken,
    account,
    token: async (more, forceRefresh = false) =>
      (await pca.acquireTokenSilent({ account, scopes: more, forceRefresh })).accessToken,
  };
}

/** The IdP's OpenID configuration as the server loads it at start. */
export async function openIdConfiguration(idp: RunningIdp): Promise<string> {
  const response = await fetch(`${idp.authority}/v2.0/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`OpenID configuration: HTTP ${response.status}`);
  return response.text();
}

/**
 * A store that records every value written to it, as they would sit in Redis, so that a test
 * can scan them for anything readable.
 */
export function recordingStore<S extends SharedStore>(store: S): { store: S; written: string[] } {
  const written: string[] = [];
  const recorded = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'set' || property === 'hSet' || property === 'sAdd' || property === 'zAdd')
          written.push(JSON.stringify(args.slice(0, 2)));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: recorded, written };
}
