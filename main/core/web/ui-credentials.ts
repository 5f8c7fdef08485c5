import { createHash, randomBytes } from 'node:crypto';

/** How long a link to the window can be opened, by default. */
export const DEFAULT_LINK_TTL_MS = 10 * 60_000;

// Enough for every tab a user opens in a run; the oldest go first beyond that.
const MAX_LINKS = 64;
const MAX_SESSIONS = 64;

/** Why a link did not open a session. */
export type LinkRefusal = 'used' | 'expired' | 'unknown';

/** A one-use link secret and when it stops working. */
export interface IssuedLink {
  secret: string;
  expiresAt: Date;
}

// Secrets are kept only as digests: a lookup by digest leaks nothing about the secret's bytes.
function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

function fresh(): string {
  return randomBytes(32).toString('base64url');
}

function trim<V>(map: Map<string, V>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value as string);
}

/**
 * The window's credentials in a browser: one-use link secrets that expire, each exchanged
 * once for a session token that the page sends in a header. Nothing here is ever a cookie.
 */
export class UiCredentials {
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #links = new Map<string, { expiresAt: number; used: boolean }>();
  readonly #sessions = new Map<string, true>();

  constructor(options: { linkTtlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = options.linkTtlMs ?? DEFAULT_LINK_TTL_MS;
    this.#now = options.now ?? Date.now;
    if (!(this.#ttlMs > 0)) throw new RangeError('linkTtlMs must be a positive number of ms');
  }

  /** How long a new link works, in ms. */
  get linkTtlMs(): number {
    return this.#ttlMs;
  }

  /** A new link secret, good for one session within the link's lifetime. */
  issueLink(): IssuedLink {
    const secret = fresh();
    const expiresAt = this.#now() + this.#ttlMs;
    this.#links.set(digest(secret), { expiresAt, used: false });
    trim(this.#links, MAX_LINKS);
    return { secret, expiresAt: new Date(expiresAt) };
  }

  /** Spends a link secret on a new session token; a link works once and only in time. */
  redeemLink(secret: string): { session: string } | { refused: LinkRefusal } {
    const link = this.#links.get(digest(secret));
    if (!link) return { refused: 'unknown' };
    if (link.used) return { refused: 'used' };
    if (this.#now() >= link.expiresAt) return { refused: 'expired' };
    link.used = true;
    const session = fresh();
    this.#sessions.set(digest(session), true);
    trim(this.#sessions, MAX_SESSIONS);
    return { session };
  }

  /** Whether `token` is a session this run handed out. */
  isSession(token: string | undefined): boolean {
    return token !== undefined && token !== '' && this.#sessions.has(digest(token));
  }
}
