import { timingSafeEqual } from 'node:crypto';
import { secretMatches } from './key-format.ts';

/** At most this many keys' secrets are remembered; a keys file holds far fewer. */
const MAX_REMEMBERED = 1024;

/**
 * Remembers, per key id, the one secret that matched the key's stored hash, so checking a key
 * on every request is a constant-time comparison rather than a SHA-256. The secrets stay in
 * this process's memory: nothing here is logged, returned or written anywhere. The owner
 * forgets them whenever the keys file changes.
 */
export class VerifiedSecrets {
  readonly #secrets = new Map<string, Buffer>();

  /** Whether `secret` is key `id`'s, whose stored hash is `hash`. */
  matches(id: string, secret: string, hash: string): boolean {
    const known = this.#secrets.get(id);
    if (known) {
      // Only one secret has the key's hash: any other is refused without hashing it.
      const presented = Buffer.from(secret, 'utf8');
      return presented.length === known.length && timingSafeEqual(presented, known);
    }
    if (!secretMatches(secret, hash)) return false;
    if (this.#secrets.size >= MAX_REMEMBERED) this.#secrets.clear();
    const kept = Buffer.alloc(Buffer.byteLength(secret, 'utf8'));
    kept.write(secret, 'utf8');
    this.#secrets.set(id, kept);
    return true;
  }

  /** Forgets every secret (the keys file changed). */
  clear(): void {
    for (const kept of this.#secrets.values()) kept.fill(0);
    this.#secrets.clear();
  }
}
