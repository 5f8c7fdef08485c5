import { EventEmitter } from 'node:events';
import {
  InteractionRequiredAuthError,
  LogLevel as MsalLogLevel,
  PublicClientApplication,
  type AccountInfo,
  type AuthenticationResult,
  type Configuration,
} from '@azure/msal-node';
import type { TokenCache } from '../cache/token-cache.ts';
import type { ValetConfig } from '../config/load-config.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import { describeError, ValetError } from '../util/valet-error.ts';
import { AccountStateStore } from './account-state.ts';
import { consentMessage, explainAuthError } from './auth-errors.ts';
import type {
  AccessToken,
  AccountSummary,
  AuthEventMap,
  BrokerState,
  TokenFreshness,
} from './auth-types.ts';
import {
  loadBroker,
  loadNativeBrokerPlugin,
  type BrokerLoad,
  type BrokerLoader,
} from './broker.ts';
import { tokenFreshness } from './cache-inspect.ts';
import { runInteractiveSignIn, type SignInOptions, type SignInResult } from './sign-in.ts';
import { SingleFlight } from './single-flight.ts';
import { TokenMemo } from './token-memo.ts';

/** What the auth service is built from. The composition root passes the real things. */
export interface AuthServiceOptions {
  config: ValetConfig;
  cache: TokenCache;
  /** The system browser opener for interactive sign-in. */
  openBrowser?: (url: string) => Promise<void>;
  brokerLoader?: BrokerLoader;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

/** Which account a call is for: its homeAccountId or username; the active one when omitted. */
export type AccountRef = string | undefined;

/**
 * Signs the user in to Entra ID with MSAL's public client (OS broker, then the system
 * browser, then device code), keeps several accounts, and hands out access tokens silently
 * with one token request per account and scope set at a time.
 */
export class AuthService extends EventEmitter<AuthEventMap> {
  #config: ValetConfig;
  readonly cache: TokenCache;
  readonly #options: AuthServiceOptions;
  readonly #logger: Logger;
  readonly #accounts: AccountStateStore;
  readonly #tokens = new SingleFlight<AccessToken>();
  readonly #memo: TokenMemo;
  readonly #resolved = new Map<string, { stamp: string; summary: AccountSummary | undefined }>();
  #pca: PublicClientApplication | undefined;
  #broker: Promise<BrokerLoad> | undefined;
  #brokerPca: PublicClientApplication | undefined;
  #lastFallback: BrokerState['lastFallback'];

  constructor(options: AuthServiceOptions) {
    super();
    this.#options = options;
    this.#config = options.config;
    this.cache = options.cache;
    this.#logger = options.logger ?? silentLogger;
    this.#accounts = new AccountStateStore(options.config.dataDir);
    this.#memo = new TokenMemo(
      options.cache.state.persisted ? options.cache.state.path : undefined,
    );
  }

  /** The configuration sign-in uses now. */
  get config(): ValetConfig {
    return this.#config;
  }

  /** Switches to a new app registration or authority (first-run settings): MSAL clients are rebuilt. */
  reconfigure(config: ValetConfig): void {
    const same =
      config.clientId === this.#config.clientId &&
      config.authority.url === this.#config.authority.url &&
      config.broker === this.#config.broker;
    this.#config = config;
    // The same registration keeps its clients: an in-memory cache would lose its accounts.
    if (same) return;
    this.#pca = undefined;
    this.#brokerPca = undefined;
    this.#broker = undefined;
    this.#memo.clear();
    this.#resolved.clear();
  }

  /** The broker's state; loads the broker runtime if this platform and mode allow it. */
  async brokerState(): Promise<BrokerState> {
    const load = await this.#loadBroker();
    return {
      mode: this.config.broker,
      available: load.available,
      reason: load.reason,
      ...(this.#lastFallback ? { lastFallback: this.#lastFallback } : {}),
    };
  }

  /** Every cached account (MSAL cache and, when it holds any, the broker), the active one marked. */
  async listAccounts(): Promise<AccountSummary[]> {
    return (await this.#accountsWithInfo()).map((a) => a.summary);
  }

  /** The active account, or undefined when nobody is signed in. */
  async activeAccount(): Promise<AccountSummary | undefined> {
    return (await this.listAccounts()).find((a) => a.active);
  }

  /** Makes an account (by username or homeAccountId) the one calls act as by default. */
  async useAccount(ref: string): Promise<AccountSummary> {
    const found = await this.#find(ref);
    await this.#accounts.update((s) => ({ ...s, active: found.summary.homeAccountId }));
    const account = { ...found.summary, active: true };
    this.emit('active-changed', { account });
    return account;
  }

  /** Interactive sign-in: broker → browser → device code, unless a method is chosen. */
  async signIn(options: SignInOptions = {}): Promise<SignInResult> {
    const pca = this.#client();
    const scopes = normalizeScopes(['User.Read', ...(options.scopes ?? [])]);
    const broker =
      options.method === 'browser' || options.method === 'device-code'
        ? undefined
        : await this.#loadBroker();
    let outcome: { result: AuthenticationResult; method: SignInResult['method'] };
    try {
      outcome = await runInteractiveSignIn({
        pca,
        brokerPca: broker?.available ? this.#brokerClient(broker) : undefined,
        brokerReason: broker?.reason,
        scopes,
        options,
        openBrowser: this.#options.openBrowser,
        platform: this.#options.platform ?? process.platform,
        env: this.#options.env ?? process.env,
        onBrokerFallback: (reason) => {
          this.#lastFallback = { at: new Date().toISOString(), reason };
          this.#logger.warn(`broker sign-in failed, using the browser instead: ${reason}`);
          this.emit('broker-fallback', { reason });
        },
      });
    } catch (err) {
      throw this.#failed('sign-in', await this.#explain(err, scopes));
    }
    const info = outcome.result.account;
    if (!info)
      throw this.#failed(
        'sign-in',
        new ValetError('sign_in_failed', 'Sign-in finished without an account: try again'),
      );
    const viaBroker = outcome.method === 'broker';
    await this.#accounts.update((s) => ({
      active: info.homeAccountId,
      brokerAccounts: viaBroker
        ? [...new Set([...s.brokerAccounts, info.homeAccountId])]
        : s.brokerAccounts.filter((id) => id !== info.homeAccountId),
    }));
    const account = summarize(info, viaBroker, info.homeAccountId);
    this.emit('signed-in', { account, method: outcome.method });
    this.emit('active-changed', { account });
    return { account, method: outcome.method, scopes: outcome.result.scopes };
  }

  /** Signs out one account (default: the active one) or all: removed from the cache and the broker. */
  async signOut(options: { account?: string; all?: boolean } = {}): Promise<AccountSummary[]> {
    this.#memo.clear();
    this.#resolved.clear();
    const all = await this.#accountsWithInfo();
    const targets = options.all
      ? all
      : [
          options.account ? await this.#find(options.account) : all.find((a) => a.summary.active),
        ].filter((a) => a !== undefined);
    if (targets.length === 0 && !options.all) {
      throw new ValetError(
        'no_account',
        options.account
          ? `No cached account matches ${options.account}: run \`mcp-valet accounts\` to list them`
          : 'Nobody is signed in',
      );
    }
    for (const target of targets) {
      if (target.summary.viaBroker)
        await this.#brokerClient(await this.#loadBroker()).signOut({ account: target.info });
      else await this.#client().getTokenCache().removeAccount(target.info);
    }
    const removed = new Set(targets.map((t) => t.summary.homeAccountId));
    const remaining = all.filter((a) => !removed.has(a.summary.homeAccountId));
    const state = await this.#accounts.update((s) => ({
      active: s.active && !removed.has(s.active) ? s.active : remaining[0]?.summary.homeAccountId,
      brokerAccounts: s.brokerAccounts.filter((id) => !removed.has(id)),
    }));
    for (const t of targets) this.emit('signed-out', { account: { ...t.summary, active: false } });
    const active = remaining.find((a) => a.summary.homeAccountId === state.active);
    if (targets.some((t) => t.summary.active))
      this.emit('active-changed', { account: active && { ...active.summary, active: true } });
    return targets.map((t) => ({ ...t.summary, active: false }));
  }

  /**
   * A token for `scopes` as `account`, silently: from the cache, or refreshed. Concurrent
   * calls for the same account and scopes share one request. When consent or a new sign-in
   * is needed it emits `interaction-required` and throws a ValetError naming the fix.
   */
  async getToken(request: {
    account?: AccountRef;
    scopes: string[];
    forceRefresh?: boolean;
  }): Promise<AccessToken> {
    const scopes = normalizeScopes(request.scopes);
    const scopeKey = scopes.join(' ').toLowerCase();
    const state = await this.#accounts.read();
    const memoKey = `${request.account ?? `active:${state.active ?? ''}`}\n${scopeKey}`;
    if (!request.forceRefresh) {
      const hit = this.#memo.get(memoKey);
      if (hit)
        return {
          ...hit,
          account: { ...hit.account, active: hit.account.homeAccountId === state.active },
        };
    }
    const stamp = this.#memo.stamp();
    const target = await this.#resolve(request.account);
    if (!target)
      throw new ValetError(
        'no_account',
        'Nobody is signed in: run `mcp-valet login` or sign in from the app',
      );
    const key = `${target.summary.homeAccountId}\n${scopeKey}\n${request.forceRefresh ? 'force' : ''}`;
    const token = await this.#tokens.run(key, () =>
      this.#acquireSilent(target, scopes, request.forceRefresh ?? false),
    );
    this.#memo.set(memoKey, token, stamp);
    return token;
  }

  /** The account a call acts as: by homeAccountId or username, else the active one; undefined when none. */
  async resolveAccount(ref?: AccountRef): Promise<AccountSummary | undefined> {
    // Every tool call asks this; MSAL answers by decoding every cached ID token, so the
    // answer is kept while neither the account pointer nor the token cache file changed.
    const stamp = `${this.#accounts.stamp()}|${this.#memo.stamp()}`;
    const key = ref ?? '';
    const known = this.#resolved.get(key);
    if (known?.stamp === stamp) return known.summary;
    let summary: AccountSummary | undefined;
    try {
      summary = (await this.#resolve(ref))?.summary;
    } catch (err) {
      if (!(err instanceof ValetError && err.code === 'no_account')) throw err;
    }
    this.#resolved.set(key, { stamp, summary });
    return summary;
  }

  /** Cached access-token freshness for an account (default: active), never the tokens. */
  async tokenFreshness(ref?: AccountRef): Promise<TokenFreshness[]> {
    const target = ref
      ? await this.#find(ref)
      : (await this.#accountsWithInfo()).find((a) => a.summary.active);
    if (!target || target.summary.viaBroker) return [];
    return tokenFreshness(this.#client().getTokenCache().serialize(), target.summary.homeAccountId);
  }

  /**
   * Every cached account and the active one's token freshness, from one read of MSAL's cache
   * (and the broker's accounts, when it holds any): what a status shows, in one pass.
   */
  async overview(): Promise<{ accounts: AccountSummary[]; tokens: TokenFreshness[] }> {
    const all = await this.#accountsWithInfo();
    const active = all.find((a) => a.summary.active);
    const tokens =
      active && !active.summary.viaBroker
        ? tokenFreshness(this.#client().getTokenCache().serialize(), active.summary.homeAccountId)
        : [];
    return { accounts: all.map((a) => a.summary), tokens };
  }

  async #acquireSilent(
    target: AccountWithInfo,
    scopes: string[],
    forceRefresh: boolean,
  ): Promise<AccessToken> {
    const pca = target.summary.viaBroker
      ? this.#brokerClient(await this.#loadBroker())
      : this.#client();
    let result: AuthenticationResult;
    try {
      result = await pca.acquireTokenSilent({ account: target.info, scopes, forceRefresh });
    } catch (err) {
      let explained = await this.#explain(err, scopes);
      if (err instanceof InteractionRequiredAuthError) {
        const granted = (await this.tokenFreshness(target.summary.homeAccountId)).flatMap((t) =>
          t.scopes.map((s) => s.toLowerCase()),
        );
        const missing = scopes.filter((s) => !granted.includes(s.toLowerCase()));
        if (explained.code === 'interaction_required' && missing.length > 0 && granted.length > 0) {
          explained = new ValetError('consent_required', consentMessage(missing), { cause: err });
        }
        this.emit('interaction-required', {
          account: target.summary,
          scopes,
          reason: explained.message,
        });
        throw explained;
      }
      throw this.#failed('token', explained);
    }
    if (!result.accessToken)
      throw this.#failed(
        'token',
        new ValetError('token_failed', 'The identity provider returned no access token: try again'),
      );
    const expiresOn = result.expiresOn ?? new Date(Date.now() + 60_000);
    if (!result.fromCache)
      this.emit('token-refreshed', {
        account: target.summary,
        scopes,
        expiresOn: expiresOn.toISOString(),
      });
    return {
      accessToken: result.accessToken,
      expiresOn,
      scopes: result.scopes,
      account: target.summary,
      fromCache: result.fromCache,
    };
  }

  async #accountsWithInfo(): Promise<AccountWithInfo[]> {
    const state = await this.#accounts.read();
    const cached = await this.#client().getTokenCache().getAllAccounts();
    const brokered = state.brokerAccounts.length > 0 ? await this.#brokerAccounts() : [];
    const seen = new Set<string>();
    const out: AccountWithInfo[] = [];
    for (const [info, viaBroker] of [
      ...brokered.map((a) => [a, true] as const),
      ...cached.map((a) => [a, false] as const),
    ]) {
      if (seen.has(info.homeAccountId)) continue;
      seen.add(info.homeAccountId);
      out.push({ info, summary: summarize(info, viaBroker, state.active) });
    }
    // With no explicit choice (or a stale one), the first account acts as the active one.
    if (out.length > 0 && !out.some((a) => a.summary.active)) out[0]!.summary.active = true;
    return out;
  }

  async #brokerAccounts(): Promise<AccountInfo[]> {
    const load = await this.#loadBroker();
    if (!load.available) return [];
    try {
      return await this.#brokerClient(load).getAllAccounts();
    } catch (err) {
      this.#logger.warn(`could not list the broker's accounts: ${describeError(err)}`);
      return [];
    }
  }

  /**
   * The account for a call: by homeAccountId straight from MSAL's cache (the hot path of
   * every tool call), else by username or the active one through the full list.
   */
  async #resolve(ref: AccountRef): Promise<AccountWithInfo | undefined> {
    const state = await this.#accounts.read();
    const id = ref ?? state.active;
    if (id && !state.brokerAccounts.includes(id)) {
      const info = await this.#client().getTokenCache().getAccountByHomeId(id);
      if (info) return { info, summary: summarize(info, false, state.active) };
    }
    return ref ? this.#find(ref) : (await this.#accountsWithInfo()).find((a) => a.summary.active);
  }

  async #find(ref: string): Promise<AccountWithInfo> {
    const all = await this.#accountsWithInfo();
    const needle = ref.toLowerCase();
    const found = all.find(
      (a) => a.summary.homeAccountId === ref || a.summary.username.toLowerCase() === needle,
    );
    if (!found)
      throw new ValetError(
        'no_account',
        `No cached account matches ${ref}: run \`mcp-valet accounts\` to list them, or \`mcp-valet login\` to add one`,
      );
    return found;
  }

  #loadBroker(): Promise<BrokerLoad> {
    this.#broker ??= loadBroker(
      this.config.broker,
      this.#options.platform ?? process.platform,
      this.#options.brokerLoader ?? loadNativeBrokerPlugin,
    );
    return this.#broker;
  }

  #client(): PublicClientApplication {
    this.#pca ??= new PublicClientApplication(this.#msalConfig());
    return this.#pca;
  }

  #brokerClient(load: BrokerLoad): PublicClientApplication {
    if (!load.plugin)
      throw new ValetError('broker_unavailable', `The OS broker is not available: ${load.reason}`);
    this.#brokerPca ??= new PublicClientApplication({
      ...this.#msalConfig(),
      broker: { nativeBrokerPlugin: load.plugin },
    });
    return this.#brokerPca;
  }

  #msalConfig(): Configuration {
    const { clientId, authority } = this.config;
    if (!clientId) {
      throw new ValetError(
        'not_configured',
        'No app registration is configured: set VALET_CLIENT_ID and VALET_TENANT_ID (see the README, "Register the app"), or try `mcp-valet demo`',
      );
    }
    const logger = this.#logger;
    const cachePlugin = this.cache.createPlugin();
    return {
      auth: { clientId, authority: authority.url, knownAuthorities: authority.knownAuthorities },
      cache: cachePlugin ? { cachePlugin } : {},
      system: {
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel:
            (this.#options.env ?? process.env).VALET_LOG_LEVEL === 'debug'
              ? MsalLogLevel.Verbose
              : MsalLogLevel.Warning,
          loggerCallback: (level, message) =>
            level <= MsalLogLevel.Error
              ? logger.error(`msal: ${message}`)
              : level === MsalLogLevel.Warning
                ? logger.warn(`msal: ${message}`)
                : logger.debug(`msal: ${message}`),
        },
      },
    };
  }

  #explain(err: unknown, scopes: string[]): Promise<ValetError> {
    return explainAuthError(err, {
      authority: this.config.authority,
      clientId: this.config.clientId ?? '',
      scopes,
    });
  }

  #failed(operation: string, err: ValetError): ValetError {
    this.emit('failed', { operation, code: err.code, message: err.message });
    return err;
  }
}

interface AccountWithInfo {
  info: AccountInfo;
  summary: AccountSummary;
}

function summarize(
  info: AccountInfo,
  viaBroker: boolean,
  active: string | undefined,
): AccountSummary {
  const roles = info.idTokenClaims?.roles;
  return {
    homeAccountId: info.homeAccountId,
    username: info.username,
    name: info.name,
    tenantId: info.tenantId,
    roles: Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [],
    viaBroker,
    active: info.homeAccountId === active,
  };
}

/** Trims, de-duplicates (case-insensitively) and sorts scopes so equal sets share a key. */
export function normalizeScopes(scopes: string[]): string[] {
  const byLower = new Map<string, string>();
  for (const s of scopes.map((x) => x.trim()).filter(Boolean))
    if (!byLower.has(s.toLowerCase())) byLower.set(s.toLowerCase(), s);
  return [...byLower.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, s]) => s);
}
