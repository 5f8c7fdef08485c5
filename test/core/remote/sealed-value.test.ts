import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cacheKeyOf, type CacheKeys } from '../../../main/core/remote/cache-keys.ts';
import { open, seal, sealedWithPrevious } from '../../../main/core/remote/sealed-value.ts';

const keyA = cacheKeyOf(randomBytes(32));
const keyB = cacheKeyOf(randomBytes(32));
const refreshToken = '0.ARoA-refresh-token-of-adele-that-must-never-be-readable';
const partition = 'mv:msal:u:adele-oid.tenant';

/** Flips one character of a sealed value's part `index` (base64url stays base64url). */
function flip(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const part = parts[index]!;
  parts[index] = (part[0] === 'A' ? 'B' : 'A') + part.slice(1);
  return parts.join('.');
}

describe('sealed values in the shared store', () => {
  it('hold no readable trace of what they seal, and open again with the key and the store key they were sealed under', () => {
    const keys: CacheKeys = { current: keyA };
    const sealed = seal(JSON.stringify({ refresh_token: refreshToken }), keys, partition);
    expect(sealed).toMatch(new RegExp(`^mv1\\.${keyA.id}\\.[\\w-]{16}\\.[\\w-]+\\.[\\w-]{22}$`));
    expect(sealed).not.toContain('refresh');
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('ARoA');
    expect(JSON.parse(open(sealed, keys, partition))).toEqual({ refresh_token: refreshToken });
    // A fresh IV each time: the same value never seals the same way twice.
    expect(seal('x', keys, partition)).not.toBe(seal('x', keys, partition));
  });

  it('refuse a changed byte anywhere, naming the store key and never the value', () => {
    const keys: CacheKeys = { current: keyA };
    const sealed = seal(refreshToken, keys, partition);
    for (const index of [2, 3, 4]) {
      const err = (() => {
        try {
          open(flip(sealed, index), keys, partition);
        } catch (e) {
          return e as Error & { code: string };
        }
        throw new Error('opened a tampered value');
      })();
      expect(err.code).toBe('sealed_value_tampered');
      expect(err.message).toContain(partition);
      expect(err.message).not.toContain(refreshToken);
      expect(err.message).not.toContain(sealed.split('.')[3]!);
    }
  });

  it('do not open under another store key: a partition copied over another user’s stays shut', () => {
    const keys: CacheKeys = { current: keyA };
    const adele = seal(refreshToken, keys, 'mv:msal:u:adele');
    expect(() => open(adele, keys, 'mv:msal:u:alex')).toThrow(
      /under mv:msal:u:alex does not open with cache key .*moved from another key/,
    );
  });

  it('open with the previous key while keys rotate, say they should be sealed again, and refuse a key no instance was given', () => {
    const before = seal(refreshToken, { current: keyA }, partition);
    const rotating: CacheKeys = { current: keyB, previous: keyA };
    expect(open(before, rotating, partition)).toBe(refreshToken);
    expect(sealedWithPrevious(before, rotating)).toBe(true);
    const after = seal(refreshToken, rotating, partition);
    expect(after.split('.')[1]).toBe(keyB.id);
    expect(sealedWithPrevious(after, rotating)).toBe(false);

    expect(() => open(before, { current: keyB }, partition)).toThrow(
      new RegExp(
        `sealed with cache key ${keyA.id}, which is neither VALET_CACHE_KEY nor VALET_CACHE_KEY_PREVIOUS`,
      ),
    );
  });

  it('say plainly when a value was never sealed', () => {
    expect(() => open(refreshToken, { current: keyA }, partition)).toThrow(
      /under mv:msal:u:adele-oid.tenant is not sealed by MCP Valet/,
    );
  });
});
