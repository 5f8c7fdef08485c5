import type { SharedStore } from '../store/shared-store.ts';
import { newOpaqueToken } from './opaque-token.ts';
import type { ValetScope } from './scopes.ts';

/** An authorization request waiting for the user on the consent page (`authreq:{id}`, 600 s). */
export interface PendingRequest {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state: string | undefined;
  /** The known scopes the client asked for. */
  scopes: ValetScope[];
  resource: string;
}

const PENDING_TTL_MS = 600_000;
const ID_PATTERN = /^mvq_[A-Za-z0-9_-]{43}$/;

/** Authorization requests between /authorize and the consent page's answer. */
export class PendingRequests {
  readonly #store: SharedStore;

  constructor(store: SharedStore) {
    this.#store = store;
  }

  /** Keeps a request for ten minutes; resolves to its unguessable ID. */
  async add(request: PendingRequest): Promise<string> {
    const id = newOpaqueToken('request');
    await this.#store.set(`authreq:${id}`, JSON.stringify(request), { ttlMs: PENDING_TTL_MS });
    return id;
  }

  /** The request, still pending, or undefined. */
  async peek(id: string): Promise<PendingRequest | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    const text = await this.#store.get(`authreq:${id}`);
    return text === null ? undefined : (JSON.parse(text) as PendingRequest);
  }

  /** The request, removed in the same step: only one answer is ever acted on. */
  async take(id: string): Promise<PendingRequest | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    const text = await this.#store.getDel(`authreq:${id}`);
    return text === null ? undefined : (JSON.parse(text) as PendingRequest);
  }
}
