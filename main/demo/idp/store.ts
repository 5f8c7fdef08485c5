import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  /** Epoch milliseconds; absent for entries without a lifetime. */
  expiresAt?: number;
}

type GrantPayload = AdapterPayload & {
  openid?: { scope?: string };
  resources?: Record<string, string | undefined>;
};

/** Adds to a stored grant what the tenant grants without asking (see `AppDirectory.widenGrant`). */
export type GrantWidener = (grant: GrantPayload) => void;

/**
 * In-memory storage for every oidc-provider model (sessions, grants, codes, tokens).
 * It is one shared map rather than one per model so that an account can be revoked
 * across all of them at once, and so that a refresh token can see its grant.
 */
export class MemoryStore {
  #entries = new Map<string, Entry>();
  readonly #widenGrant: GrantWidener;

  constructor(widenGrant: GrantWidener = () => {}) {
    this.#widenGrant = widenGrant;
  }

  /** The oidc-provider adapter for one model name, e.g. `RefreshToken`. */
  adapterFor(model: string): Adapter {
    return {
      upsert: async (id, payload, expiresIn) => {
        this.#entries.set(this.#key(model, id), {
          payload: structuredClone(payload),
          ...(expiresIn === undefined ? {} : { expiresAt: Date.now() + expiresIn * 1000 }),
        });
      },
      find: async (id) => this.#find(model, id),
      findByUid: async (uid) => this.#findWhere(model, (p) => p.uid === uid),
      findByUserCode: async (userCode) => this.#findWhere(model, (p) => p.userCode === userCode),
      consume: async (id) => {
        const entry = this.#live(this.#key(model, id));
        if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        this.#entries.delete(this.#key(model, id));
      },
      revokeByGrantId: async (grantId) => {
        this.#deleteWhere((p) => p.grantId === grantId);
      },
    };
  }

  /** The ID of the grant an account holds for a client: Entra keeps consent per user and app. */
  grantIdFor(accountId: string, clientId: string): string | undefined {
    for (const [key, entry] of this.#entries) {
      const { payload } = entry;
      if (
        key.startsWith('Grant:') &&
        payload.accountId === accountId &&
        payload.clientId === clientId
      ) {
        if (this.#live(key)) return payload.jti;
      }
    }
    return undefined;
  }

  /** Deletes everything an account has: sessions, grants, codes and tokens. */
  revokeAccount(accountId: string): void {
    const grantIds = new Set<string>();
    for (const [key, { payload }] of this.#entries) {
      if (key.startsWith('Grant:') && payload.accountId === accountId && payload.jti) {
        grantIds.add(payload.jti);
      }
    }
    this.#deleteWhere(
      (p) => p.accountId === accountId || (p.grantId !== undefined && grantIds.has(p.grantId)),
    );
  }

  #key(model: string, id: string): string {
    return `${model}:${id}`;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #find(model: string, id: string): AdapterPayload | undefined {
    const entry = this.#live(this.#key(model, id));
    if (!entry) return undefined;
    const payload = structuredClone(entry.payload);
    if (model === 'Grant') this.#widenGrant(payload as GrantPayload);
    if (model === 'RefreshToken') this.#widenToGrant(payload);
    return payload;
  }

  #findWhere(
    model: string,
    match: (payload: AdapterPayload) => boolean,
  ): AdapterPayload | undefined {
    for (const [key, entry] of this.#entries) {
      if (key.startsWith(`${model}:`) && match(entry.payload) && this.#live(key)) {
        return structuredClone(entry.payload);
      }
    }
    return undefined;
  }

  #deleteWhere(match: (payload: AdapterPayload) => boolean): void {
    for (const [key, entry] of this.#entries) {
      if (match(entry.payload)) this.#entries.delete(key);
    }
  }

  /**
   * Entra refresh tokens are not bound to the scopes of the request that minted them: they
   * redeem any scope the user has consented to for the app (MSAL keeps one refresh token per
   * account and uses it for every scope). oidc-provider checks a refresh request against the
   * token's own scope and resource, so present each refresh token with its grant's current
   * scopes and resources.
   */
  #widenToGrant(payload: AdapterPayload): void {
    if (!payload.grantId) return;
    const stored = this.#live(this.#key('Grant', payload.grantId))?.payload;
    if (!stored) return;
    const grant = structuredClone(stored) as GrantPayload;
    this.#widenGrant(grant);
    const scopes = new Set((payload.scope ?? '').split(' ').filter(Boolean));
    const granted = [grant.openid?.scope, ...Object.values(grant.resources ?? {})];
    for (const list of granted) {
      for (const scope of (list ?? '').split(' ').filter(Boolean)) scopes.add(scope);
    }
    payload.scope = [...scopes].join(' ');
    const held = Array.isArray(payload.resource) ? payload.resource : [payload.resource];
    const resources = new Set(
      [...held, ...Object.keys(grant.resources ?? {})].filter(
        (r): r is string => typeof r === 'string',
      ),
    );
    if (resources.size > 1) payload.resource = [...resources];
    else if (resources.size === 1) payload.resource = [...resources][0];
  }
}
