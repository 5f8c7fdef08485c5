import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^mvk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/;

/** A new key: its public id, and the secret the client presents (shown once, never stored). */
export function generateKey(): { id: string; secret: string } {
  const id = randomBytes(6).toString('hex');
  // 256 random bits: a fast hash is enough to store it, no password-style stretching needed.
  return { id, secret: `mvk_${id}_${randomBytes(32).toString('base64url')}` };
}

/** The key id inside a presented secret, or undefined when it is not shaped like a valet key. */
export function keyIdOf(secret: string): string | undefined {
  return KEY_PATTERN.test(secret) ? secret.slice(4, 16) : undefined;
}

/** What is stored instead of the secret. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
