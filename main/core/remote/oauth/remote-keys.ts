import { randomBytes } from 'node:crypto';
import { TOOL_NAMES, type ToolName } from '../../mcp/tool-definition.ts';
import type { AdmitCheck, SharedStore } from '../store/shared-store.ts';

/**
 * A remote valet key: the grant one user gave one client on the consent page. Its token family
 * (codes, access and refresh tokens) acts as this key, within its tools, until it is revoked.
 */
export interface RemoteKey {
  id: string;
  /** The client's name when the key was made. */
  name: string;
  clientId: string;
  oid: string;
  tid: string;
  homeAccountId: string;
  username: string;
  tools: ToolName[];
  readOnly: boolean;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** What a new key is made of. */
export type NewRemoteKey = Omit<RemoteKey, 'id' | 'createdAt' | 'lastUsedAt' | 'revokedAt'>;

/** lastUsedAt is written at most this often per key, so that a busy key costs no extra writes. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Remote valet keys in the shared store: `key:{keyId}` (a hash, never expiring; revocation is a
 * `revokedAt` mark), `keys:{oid}` (the user's key IDs) and `keytokens:{keyId}` (the store keys
 * of the key's live tokens, scored by expiry so that expired ones drop out), through which
 * revoking deletes every live token at once.
 */
export class RemoteKeys {
  readonly #store: SharedStore;
  readonly #now: () => number;

  constructor(store: SharedStore, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /** Makes a key and adds it to its user's list. */
  async create(input: NewRemoteKey): Promise<RemoteKey> {
    const key: RemoteKey = {
      ...input,
      id: randomBytes(6).toString('hex'),
      createdAt: new Date(this.#now()).toISOString(),
    };
    await this.#store.hSet(`key:${key.id}`, toFields(key));
    await this.#store.sAdd(`keys:${key.oid}`, [key.id]);
    return key;
  }

  /** The key, revoked or not, or undefined when there is none. */
  async get(id: string): Promise<RemoteKey | undefined> {
    return fromFields(id, await this.#store.hGetAll(`key:${id}`));
  }

  /** The keys of one user, newest first. */
  async list(oid: string): Promise<RemoteKey[]> {
    const ids = await this.#store.sMembers(`keys:${oid}`);
    const keys = await Promise.all(ids.map((id) => this.get(id)));
    return keys
      .filter((k): k is RemoteKey => k !== undefined)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Changes what a live key may do (the user consented again). */
  async update(id: string, change: Pick<RemoteKey, 'tools' | 'readOnly' | 'name'>): Promise<void> {
    await this.#store.hSet(`key:${id}`, {
      tools: JSON.stringify(change.tools),
      readOnly: String(change.readOnly),
      name: change.name,
    });
  }

  /** Notes a use, at most once a minute per key. */
  async touch(key: RemoteKey): Promise<void> {
    const now = this.#now();
    if (key.lastUsedAt && now - Date.parse(key.lastUsedAt) < TOUCH_INTERVAL_MS) return;
    await this.#store.hSet(`key:${key.id}`, { lastUsedAt: new Date(now).toISOString() });
  }

  /**
   * Revokes the key: it is marked revoked first, so a token minted meanwhile is refused by the
   * check every request makes, and then every live token of its family is deleted. Resolves to
   * false when there is no such key; revoking twice keeps the first time.
   */
  async revoke(id: string): Promise<boolean> {
    const key = await this.get(id);
    if (!key) return false;
    if (!key.revokedAt)
      await this.#store.hSet(`key:${id}`, { revokedAt: new Date(this.#now()).toISOString() });
    const tokens = await this.#store.zRangeByScore(`keytokens:${id}`, -Infinity, Infinity);
    await Promise.all(tokens.map(({ member }) => this.#store.del(member)));
    await this.#store.del(`keytokens:${id}`);
    return true;
  }

  /**
   * What the store must find true for a token of the key to be good: the token's record
   * (`tokenStoreKey`) is there, the key is there and not revoked, and the token is one of the
   * key's. The store checks them together with a request's admission (`SharedStore.admit`).
   */
  liveTokenChecks(keyId: string, tokenStoreKey: string): AdmitCheck[] {
    return [
      { key: tokenStoreKey, holds: 'key' },
      { key: `key:${keyId}`, holds: 'key' },
      { key: `key:${keyId}`, holds: 'no-field', field: 'revokedAt' },
      { key: `keytokens:${keyId}`, holds: 'member', member: tokenStoreKey },
    ];
  }

  /** Records a live token of the key by its store key, until it expires. */
  async addToken(keyId: string, storeKey: string, expiresAtMs: number): Promise<void> {
    const index = `keytokens:${keyId}`;
    await this.#store.zRemRangeByScore(index, -Infinity, this.#now());
    const ttl = await this.#store.ttl(index);
    const keepFor = Math.max(expiresAtMs - this.#now(), ttl === null || ttl === Infinity ? 0 : ttl);
    await this.#store.zAdd(index, [{ member: storeKey, score: expiresAtMs }], {
      ttlMs: Math.max(1, Math.ceil(keepFor)),
    });
  }

  /** Forgets a token that is gone (rotated or revoked on its own). */
  async removeToken(keyId: string, storeKey: string): Promise<void> {
    await this.#store.zRem(`keytokens:${keyId}`, [storeKey]);
  }
}

function toFields(key: RemoteKey): Record<string, string> {
  const fields: Record<string, string> = {
    name: key.name,
    clientId: key.clientId,
    oid: key.oid,
    tid: key.tid,
    homeAccountId: key.homeAccountId,
    username: key.username,
    tools: JSON.stringify(key.tools),
    readOnly: String(key.readOnly),
    createdAt: key.createdAt,
  };
  if (key.lastUsedAt) fields.lastUsedAt = key.lastUsedAt;
  if (key.revokedAt) fields.revokedAt = key.revokedAt;
  return fields;
}

function fromFields(id: string, f: Record<string, string>): RemoteKey | undefined {
  if (f.oid === undefined || f.clientId === undefined) return undefined;
  const tools = parseTools(f.tools);
  return {
    id,
    name: f.name ?? '',
    clientId: f.clientId,
    oid: f.oid,
    tid: f.tid ?? '',
    homeAccountId: f.homeAccountId ?? '',
    username: f.username ?? '',
    tools,
    readOnly: f.readOnly === 'true',
    createdAt: f.createdAt ?? '',
    ...(f.lastUsedAt ? { lastUsedAt: f.lastUsedAt } : {}),
    ...(f.revokedAt ? { revokedAt: f.revokedAt } : {}),
  };
}

/** The key's tools; anything unreadable or unknown grants nothing. */
function parseTools(text: string | undefined): ToolName[] {
  try {
    const list: unknown = JSON.parse(text ?? '[]');
    if (!Array.isArray(list)) return [];
    return TOOL_NAMES.filter((t) => list.includes(t));
  } catch {
    return [];
  }
}
