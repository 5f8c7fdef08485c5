import { EventEmitter } from 'node:events';
import type { AccountDto, StatusDto } from '../../../preload/contract.ts';
import {
  AUTH_CHANGE_EVENTS,
  type AccountSummary,
  type BrokerState,
  type TokenFreshness,
} from '../auth/auth-types.ts';
import type { CacheKind, CacheState } from '../cache/token-cache.ts';
import type { ValetCore } from './valet-core.ts';

/** What the model says of the broker and a cache outside a keyring in the demo, where neither matters. */
export const NOT_NEEDED_IN_DEMO = 'not needed in the demo';

/** How the status model is built. */
export interface StatusModelOptions {
  /** The demo tenant is running: the broker and a keyring are not needed there. */
  demo?: boolean;
  /** How long to wait for a burst of changes (a sign-in emits several) to end. */
  debounceMs?: number;
}

/** Events of the status model. */
export interface StatusModelEvents {
  /** A new snapshot, different from the last one sent. */
  changed: [StatusDto];
}

/** What one read of MSAL's cache gives: the accounts, the active one's tokens, the broker. */
interface AuthPart {
  accounts: AccountSummary[];
  tokens: TokenFreshness[];
  broker: BrokerState;
}

/** Token caches the OS keeps encrypted for the user. */
const KEYRINGS: ReadonlySet<CacheKind> = new Set(['dpapi', 'keychain', 'libsecret']);

/**
 * The broker and the token cache as people are told of them: in the demo, whatever it does
 * not need (the broker, a keyring it has no use for) says so instead of reading as a problem.
 */
export function signInSystem(
  broker: BrokerState,
  cache: CacheState,
  demo: boolean,
): Pick<StatusDto, 'broker' | 'cache'> {
  const isProtected = KEYRINGS.has(cache.kind);
  return {
    broker: demo
      ? { mode: broker.mode, available: broker.available, reason: NOT_NEEDED_IN_DEMO }
      : broker,
    cache: {
      kind: cache.kind,
      persisted: cache.persisted,
      protected: isProtected,
      reason: demo && !isProtected ? NOT_NEEDED_IN_DEMO : cache.reason,
    },
  };
}

/** The account as the window and the tray see it. */
export function accountDto(a: AccountSummary): AccountDto {
  return {
    homeAccountId: a.homeAccountId,
    username: a.username,
    name: a.name ?? null,
    tenantId: a.tenantId,
    roles: a.roles,
    active: a.active,
    viaBroker: a.viaBroker,
  };
}

/**
 * The one status of the app, for the window (getStatus and its events), the web bridge and
 * the tray alike. It listens once to sign-in, approvals and the endpoint, lets a burst of
 * changes settle, then computes one snapshot: a change of sign-in costs one pass over MSAL's
 * cache, a change of approvals or of the endpoint none. A snapshot equal to the last one sent
 * is not sent again.
 */
export class StatusModel extends EventEmitter<StatusModelEvents> {
  readonly #core: ValetCore;
  readonly #demo: boolean;
  readonly #debounceMs: number;
  readonly #unsubscribe: Array<() => void> = [];
  #auth: AuthPart | undefined;
  #authStale = true;
  #dirty = true;
  #snapshot: StatusDto | undefined;
  #computing: Promise<StatusDto> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The last snapshot sent, or else the first one a reader asked for: what readers have. */
  #sent: string | undefined;

  constructor(core: ValetCore, options: StatusModelOptions = {}) {
    super();
    this.#core = core;
    this.#demo = options.demo ?? false;
    this.#debounceMs = options.debounceMs ?? 50;
    const onAuth = () => this.#changed(true);
    const onOther = () => this.#changed(false);
    for (const name of AUTH_CHANGE_EVENTS) {
      core.auth.on(name, onAuth);
      this.#unsubscribe.push(() => core.auth.off(name, onAuth));
    }
    for (const name of ['approval-requested', 'approval-decided'] as const) {
      core.approvals.on(name, onOther);
      this.#unsubscribe.push(() => core.approvals.off(name, onOther));
    }
    core.on('endpoint-changed', onOther);
    this.#unsubscribe.push(() => core.off('endpoint-changed', onOther));
  }

  /** The latest snapshot; right after a change, the one that includes it. */
  current(): Promise<StatusDto> {
    if (this.#snapshot && !this.#dirty && !this.#computing) return Promise.resolve(this.#snapshot);
    return this.#compute().then((snapshot) => {
      this.#sent ??= JSON.stringify(snapshot);
      return snapshot;
    });
  }

  /** Something the model does not hear of changed (the app registration was saved). */
  invalidate(): void {
    this.#changed(true);
  }

  /** Stops listening to the core. */
  close(): void {
    clearTimeout(this.#timer);
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  #changed(auth: boolean): void {
    if (auth) this.#authStale = true;
    this.#dirty = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#publish(), this.#debounceMs);
    this.#timer.unref();
  }

  async #publish(): Promise<void> {
    const snapshot = await this.#compute();
    const text = JSON.stringify(snapshot);
    if (text === this.#sent) return;
    this.#sent = text;
    this.emit('changed', snapshot);
  }

  #compute(): Promise<StatusDto> {
    // One computation at a time; a change that lands during it gets a computation of its own.
    if (this.#computing)
      return this.#computing.then(() => (this.#dirty ? this.#compute() : this.#snapshot!));
    this.#dirty = false;
    const readAuth = this.#authStale || !this.#auth;
    this.#authStale = false;
    this.#computing = (async () => {
      if (readAuth) this.#auth = await this.#readAuth();
      this.#snapshot = this.#build(this.#auth!);
      return this.#snapshot;
    })().finally(() => (this.#computing = undefined));
    return this.#computing;
  }

  async #readAuth(): Promise<AuthPart> {
    const { auth, config } = this.#core;
    const configured = config.clientId !== undefined;
    // An unreadable cache (a locked keyring) shows as nobody signed in, not as a broken window.
    const overview = configured
      ? await auth.overview().catch(() => ({ accounts: [], tokens: [] }))
      : { accounts: [], tokens: [] };
    return { ...overview, broker: await auth.brokerState() };
  }

  #build({ accounts, tokens, broker }: AuthPart): StatusDto {
    const { config, auth } = this.#core;
    const active = accounts.find((a) => a.active);
    const granted = new Set(tokens.flatMap((t) => t.scopes.map((s) => s.toLowerCase())));
    const needed = [...new Set(this.#core.tools.flatMap((t) => t.scopes))];
    const endpoint = this.#core.endpoint;
    return {
      configured: config.clientId !== undefined,
      demo: this.#demo,
      clientId: config.clientId ?? null,
      tenantId: config.tenantId,
      authority: config.authority.url,
      account: active ? accountDto(active) : null,
      accounts: accounts.map(accountDto),
      tokens,
      ...signInSystem(broker, auth.cache.state, this.#demo),
      endpoint: { url: endpoint?.url ?? null, running: endpoint !== undefined },
      missingScopes:
        active && !active.viaBroker ? needed.filter((s) => !granted.has(s.toLowerCase())) : [],
      pendingApprovals: this.#core.approvals.list().length,
    };
  }
}
