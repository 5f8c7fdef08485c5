import type { SharedStore } from '../store/shared-store.ts';
import { randomToken, sha256Hex } from './secrets.ts';

/** Everyone who ever signed in to the pages: object ID → sign-in name, for the admin's view. */
const USERS_KEY = 'web-users';

/** A web session lasts this long after its last use. */
export const WEB_SESSION_TTL_MS = 8 * 3_600_000;

/** Who is signed in to the server's pages, as their ID token said at sign-in. */
export interface WebSession {
  /** Entra object ID. */
  oid: string;
  /** Tenant ID. */
  tid: string;
  /** MSAL's account ID, which names the user's token cache partition. */
  homeAccountId: string;
  name: string;
  username: string;
  /** App roles from the ID token (`roles`), e.g. Valet.Admin. */
  roles: string[];
  /** The token every form of this session carries back. */
  csrf: string;
}

/** A user who has signed in to the server's pages at least once. */
export interface KnownUser {
  oid: string;
  /** Their sign-in name at their last sign-in (the object ID when the token named none). */
  username: string;
}

/**
 * Web sessions in the shared store, at `web:{sha256(sid)}`: the store never holds the cookie's
 * value, so reading the store does not hand out sessions. A session slides: each use keeps it
 * for another WEB_SESSION_TTL_MS. Every sign-in also notes its user in `web-users`: a valet key
 * is only ever made on the consent page by a signed-in user, so that list names every user who
 * can have keys.
 */
export class WebSessions {
  readonly #store: SharedStore;
  readonly #ttlMs: number;

  constructor(store: SharedStore, ttlMs: number = WEB_SESSION_TTL_MS) {
    this.#store = store;
    this.#ttlMs = ttlMs;
  }

  /** Starts a session; resolves to the session ID for the cookie, and the session with its CSRF token. */
  async create(who: Omit<WebSession, 'csrf'>): Promise<{ sid: string; session: WebSession }> {
    const sid = randomToken();
    const session: WebSession = { ...who, csrf: randomToken() };
    await this.#store.hSet(
      keyOf(sid),
      {
        oid: session.oid,
        tid: session.tid,
        homeAccountId: session.homeAccountId,
        name: session.name,
        username: session.username,
        roles: JSON.stringify(session.roles),
        csrf: session.csrf,
        createdAt: new Date().toISOString(),
      },
      { ttlMs: this.#ttlMs },
    );
    await this.#store.hSet(USERS_KEY, { [session.oid]: session.username || session.oid });
    return { sid, session };
  }

  /** Every user who has signed in, by sign-in name. */
  async knownUsers(): Promise<KnownUser[]> {
    const all = await this.#store.hGetAll(USERS_KEY);
    return Object.entries(all)
      .map(([oid, username]) => ({ oid, username }))
      .sort((a, b) => a.username.localeCompare(b.username));
  }

  /** The session `sid` names, kept for another TTL; null when there is none (expired, signed out). */
  async get(sid: string): Promise<WebSession | null> {
    const key = keyOf(sid);
    const fields = await this.#store.hGetAll(key);
    const { oid, tid, homeAccountId, name, username, roles, csrf } = fields;
    if (!oid || !tid || !homeAccountId || !csrf) return null;
    await this.#store.expire(key, this.#ttlMs);
    return {
      oid,
      tid,
      homeAccountId,
      name: name ?? '',
      username: username ?? '',
      roles: parseRoles(roles),
      csrf,
    };
  }

  /** Ends the session; resolves to whether there was one. */
  delete(sid: string): Promise<boolean> {
    return this.#store.del(keyOf(sid));
  }
}

function keyOf(sid: string): string {
  return `web:${sha256Hex(sid)}`;
}

function parseRoles(raw: string | undefined): string[] {
  try {
    const value: unknown = JSON.parse(raw ?? '[]');
    return Array.isArray(value) ? value.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}
