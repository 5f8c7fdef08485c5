import {
  AuthError,
  PublicClientApplication,
  type AccountInfo,
  type AuthenticationResult,
  type INativeBrokerPlugin,
} from '@azure/msal-node';
import type { RunningIdp } from '../../main/demo/idp/index.ts';
import { msalAuthFor } from './idp.ts';

/** What the app asked of the broker. */
export interface BrokerCall {
  method:
    | 'acquireTokenInteractive'
    | 'acquireTokenSilent'
    | 'getAllAccounts'
    | 'getAccountById'
    | 'signOut';
  scopes?: string[];
  windowHandle?: Buffer;
}

/**
 * A broker test double that implements MSAL's native broker plugin interface. Like WAM, it
 * keeps its own accounts and tokens: behind it is a separate MSAL client signing in at the
 * real test IdP through a real browser. It records every call, and can be told to be
 * unavailable or to fail.
 */
export class BrokerDouble implements INativeBrokerPlugin {
  isBrokerAvailable = true;
  readonly calls: BrokerCall[] = [];
  /** When set, interactive sign-in throws this instead of signing in. */
  failInteractive: Error | undefined;
  readonly #inner: PublicClientApplication;
  readonly #openBrowser: (url: string) => Promise<void>;

  constructor(idp: RunningIdp, openBrowser: (url: string) => Promise<void>) {
    this.#inner = new PublicClientApplication({ auth: msalAuthFor(idp) });
    this.#openBrowser = openBrowser;
  }

  setLogger(): void {}

  async acquireTokenInteractive(
    request: { scopes: string[] },
    windowHandle?: Buffer,
  ): Promise<AuthenticationResult> {
    this.#record({
      method: 'acquireTokenInteractive',
      scopes: request.scopes,
      ...(windowHandle ? { windowHandle } : {}),
    });
    if (this.failInteractive) throw this.failInteractive;
    return native(
      await this.#inner.acquireTokenInteractive({
        scopes: request.scopes,
        openBrowser: this.#openBrowser,
      }),
    );
  }

  async acquireTokenSilent(request: {
    scopes: string[];
    accountId?: string;
    forceRefresh?: boolean;
  }): Promise<AuthenticationResult> {
    this.#record({ method: 'acquireTokenSilent', scopes: request.scopes });
    const account = await this.#account(request.accountId);
    return native(
      await this.#inner.acquireTokenSilent({
        account,
        scopes: request.scopes,
        forceRefresh: request.forceRefresh ?? false,
      }),
    );
  }

  async getAllAccounts(): Promise<AccountInfo[]> {
    this.#record({ method: 'getAllAccounts' });
    return (await this.#inner.getTokenCache().getAllAccounts()).map(nativeAccount);
  }

  async getAccountById(accountId: string): Promise<AccountInfo> {
    this.#record({ method: 'getAccountById' });
    return nativeAccount(await this.#account(accountId));
  }

  async signOut(request: { accountId: string }): Promise<void> {
    this.#record({ method: 'signOut' });
    await this.#inner.getTokenCache().removeAccount(await this.#account(request.accountId));
  }

  #record(call: BrokerCall): void {
    if (!this.isBrokerAvailable)
      throw new Error(`the unavailable broker was called: ${call.method}`);
    this.calls.push(call);
  }

  async #account(nativeAccountId: string | undefined): Promise<AccountInfo> {
    const found = (await this.#inner.getTokenCache().getAllAccounts()).find(
      (a) => a.homeAccountId === nativeAccountId,
    );
    if (!found) throw new AuthError('no_account_found', '', 'The broker has no such account');
    return found;
  }
}

function nativeAccount(account: AccountInfo): AccountInfo {
  return { ...account, nativeAccountId: account.homeAccountId };
}

function native(result: AuthenticationResult): AuthenticationResult {
  return {
    ...result,
    fromCache: result.fromCache,
    account: result.account ? nativeAccount(result.account) : null,
  };
}
