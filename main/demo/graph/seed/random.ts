import { createHash } from 'node:crypto';

/** A deterministic random source, so each user's seeded data is the same on every start. */
export class SeededRandom {
  #state: number;

  constructor(seed: string) {
    this.#state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  }

  /** A float in [0, 1) (mulberry32). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick() needs a non-empty list.');
    return item;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }
}

/**
 * An Exchange-style item ID (URL-safe base64 ending in `=`), stable for its inputs. Like
 * Graph's, it must be percent-encoded in a URL path, which is worth exercising.
 */
export function exchangeId(...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  const body = Buffer.concat([Buffer.from([0, 0, 0, 0x46]), digest, digest.subarray(0, 12)]);
  return `AAMkA${body.toString('base64url')}=`;
}

/** A OneDrive-style item ID: 34 upper-case base32 characters. */
export function driveItemId(...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let id = '01';
  for (let i = 0; id.length < 34; i += 1) id += alphabet[(digest[i] ?? 0) % 32];
  return id;
}

/** A GUID, stable for its inputs. */
export function stableGuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
