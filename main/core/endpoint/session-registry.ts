import type { KeyStore, ValetKey } from '../keys/key-store.ts';
import type { Logger } from '../util/logger.ts';
import type { EndpointEvents } from './endpoint-options.ts';
import { openSession, type ServerFactory, type Session } from './mcp-session.ts';

/** A client keeps its session while it works; an abandoned one goes after this long. */
const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;
/** Enough for every window of a client sharing one key; each session costs some 17 KB. */
const DEFAULT_MAX_SESSIONS_PER_KEY = 32;

/** What the registry needs: see EndpointOptions for each. */
export interface SessionRegistryOptions {
  keys: Pick<KeyStore, 'get'>;
  createServer: ServerFactory;
  maxSessionsPerKey: number | undefined;
  logger: Logger;
  /** Told of each session opened and closed. */
  events: Pick<EndpointEvents, 'onSessionOpened' | 'onSessionClosed'>;
}

/**
 * The endpoint's open MCP sessions by id. Each key holds a bounded number of them, and
 * sessions left idle, or whose key was revoked, are closed by a periodic sweep.
 */
export class SessionRegistry {
  readonly #options: SessionRegistryOptions;
  readonly #sessions = new Map<string, Session>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: SessionRegistryOptions) {
    this.#options = options;
  }

  /** Open sessions, for status and leak checks. */
  get size(): number {
    return this.#sessions.size;
  }

  /** The open session with this id, if any. */
  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /** A new session for `key`; it joins the registry once its initialize gives it an id. */
  open(key: ValetKey): Promise<Session> {
    return openSession(key, this.#options.createServer, {
      initialized: async (id, session) => {
        await this.#makeRoomFor(key);
        this.#sessions.set(id, session);
        this.#options.events.onSessionOpened?.({
          sessionId: id,
          key,
          client: session.server.server.getClientVersion(),
        });
      },
      closed: (id) => {
        if (this.#sessions.delete(id))
          this.#options.events.onSessionClosed?.({ sessionId: id, keyId: key.id });
      },
    });
  }

  /** Starts closing sessions left idle this long (10 minutes by default). */
  sweepEvery(idleTimeoutMs: number | undefined): void {
    const idle = idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#sweeper = setInterval(() => void this.#sweep(idle), Math.min(idle, 60_000)).unref();
  }

  /** Stops the sweep and closes every session. */
  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.keys()].map((id) => this.#close(id)));
  }

  /** Closes every session a key opened (after it is revoked). */
  async closeSessionsOf(keyId: string): Promise<void> {
    await Promise.all(
      [...this.#sessions].filter(([, s]) => s.keyId === keyId).map(([id]) => this.#close(id)),
    );
  }

  /**
   * Keeps a key within its session cap by closing its least recently used session, preferring
   * one with nothing open. A client that lost its session simply initializes again, whereas
   * refusing the new one would lock out the key's own client behind sessions it abandoned.
   */
  async #makeRoomFor(key: ValetKey): Promise<void> {
    const max = this.#options.maxSessionsPerKey ?? DEFAULT_MAX_SESSIONS_PER_KEY;
    const mine = [...this.#sessions].filter(([, s]) => s.keyId === key.id);
    if (mine.length < max) return;
    mine.sort(([, a], [, b]) => Number(a.open > 0) - Number(b.open > 0) || a.lastSeen - b.lastSeen);
    this.#options.logger.info(
      `valet key '${key.name}' reached its ${max} sessions: closing its least recently used`,
    );
    await Promise.all(mine.slice(0, mine.length - max + 1).map(([id]) => this.#close(id)));
  }

  async #close(id: string): Promise<void> {
    const session = this.#sessions.get(id);
    if (!session) return;
    this.#sessions.delete(id);
    this.#options.events.onSessionClosed?.({ sessionId: id, keyId: session.keyId });
    await session.server.close().catch(() => undefined);
  }

  /**
   * Closes idle sessions (nothing open, unused for the idle timeout), and those of keys
   * revoked since (their streams may sit silent).
   */
  async #sweep(idleMs: number): Promise<void> {
    const cutoff = Date.now() - idleMs;
    for (const [id, s] of this.#sessions) {
      const key = await this.#options.keys.get(s.keyId).catch(() => undefined);
      if ((s.open === 0 && s.lastSeen < cutoff) || !key || key.revokedAt) await this.#close(id);
    }
  }
}
