import { describe, expect, it } from 'vitest';
import type { ContractContext } from './contract-support.ts';

/** The contract of hashes, sets and sorted sets, with their expiry. */
export function collectionContract({ store, pass }: ContractContext): void {
  describe('hashes', () => {
    it('sets, reads and deletes fields; the key goes with its last field', async () => {
      await store().hSet('key:1', { name: 'laptop', tools: '["list_mail"]' });
      await store().hSet('key:1', { revokedAt: '2026-01-01' });
      expect(await store().hGetAll('key:1')).toEqual({
        name: 'laptop',
        tools: '["list_mail"]',
        revokedAt: '2026-01-01',
      });
      expect(await store().hGet('key:1', 'name')).toBe('laptop');
      expect(await store().hGet('key:1', 'nope')).toBeNull();
      expect(await store().hDel('key:1', ['name', 'nope'])).toBe(1);
      expect(await store().hDel('key:1', ['tools', 'revokedAt'])).toBe(2);
      expect(await store().hGetAll('key:1')).toEqual({});
      expect(await store().ttl('key:1')).toBeNull();
    });

    it('a hash given ttlMs expires whole; a later hSet without ttlMs keeps that expiry', async () => {
      await store().hSet('web:1', { oid: 'u1' }, { ttlMs: 100 });
      await store().hSet('web:1', { csrf: 't' });
      expect(await store().hGetAll('web:1')).toEqual({ oid: 'u1', csrf: 't' });
      expect(await store().ttl('web:1')).toBeLessThanOrEqual(100);
      await pass(150);
      expect(await store().hGetAll('web:1')).toEqual({});
      expect(await store().hGet('web:1', 'oid')).toBeNull();
    });

    it('an hSet with ttlMs renews the expiry of a hash (a sliding session)', async () => {
      await store().hSet('web:1', { oid: 'u1' }, { ttlMs: 100 });
      await pass(60);
      await store().hSet('web:1', { seen: '1' }, { ttlMs: 100 });
      await pass(60);
      expect(await store().hGet('web:1', 'oid')).toBe('u1');
    });
  });

  describe('sets', () => {
    it('adds, lists and removes members, counting only changes', async () => {
      expect(await store().sAdd('keys:u1', ['k1', 'k2'])).toBe(2);
      expect(await store().sAdd('keys:u1', ['k2', 'k3'])).toBe(1);
      expect((await store().sMembers('keys:u1')).sort()).toEqual(['k1', 'k2', 'k3']);
      expect(await store().sRem('keys:u1', ['k1', 'k9'])).toBe(1);
      expect((await store().sMembers('keys:u1')).sort()).toEqual(['k2', 'k3']);
      expect(await store().sMembers('keys:nobody')).toEqual([]);
    });

    it('a set given ttlMs is gone once it has passed', async () => {
      await store().sAdd('s', ['a'], { ttlMs: 100 });
      await pass(150);
      expect(await store().sMembers('s')).toEqual([]);
      expect(await store().ttl('s')).toBeNull();
    });
  });

  describe('sorted sets', () => {
    it('ranges by score, lowest first and ties by member, with open ends and a limit', async () => {
      expect(
        await store().zAdd('approvals:u1', [
          { member: 'b', score: 300 },
          { member: 'a', score: 300 },
          { member: 'c', score: 100 },
          { member: 'd', score: 500 },
        ]),
      ).toBe(4);
      expect(await store().zAdd('approvals:u1', [{ member: 'd', score: 200 }])).toBe(0);
      const all = await store().zRangeByScore('approvals:u1', -Infinity, Infinity);
      expect(all).toEqual([
        { member: 'c', score: 100 },
        { member: 'd', score: 200 },
        { member: 'a', score: 300 },
        { member: 'b', score: 300 },
      ]);
      expect(await store().zRangeByScore('approvals:u1', 200, 300, { limit: 2 })).toEqual([
        { member: 'd', score: 200 },
        { member: 'a', score: 300 },
      ]);
      expect(await store().zRangeByScore('approvals:nobody', 0, Infinity)).toEqual([]);
    });

    it('removes members by name and by score range (pending approvals past their expiry)', async () => {
      await store().zAdd('approvals:u1', [
        { member: 'old', score: 100 },
        { member: 'older', score: 50 },
        { member: 'live', score: 900 },
      ]);
      expect(await store().zRemRangeByScore('approvals:u1', -Infinity, 100)).toBe(2);
      expect(await store().zRangeByScore('approvals:u1', -Infinity, Infinity)).toEqual([
        { member: 'live', score: 900 },
      ]);
      expect(await store().zRem('approvals:u1', ['live', 'ghost'])).toBe(1);
      expect(await store().ttl('approvals:u1')).toBeNull();
    });

    it('a sorted set given ttlMs is gone once it has passed', async () => {
      await store().zAdd('z', [{ member: 'a', score: 1 }], { ttlMs: 100 });
      await pass(150);
      expect(await store().zRangeByScore('z', -Infinity, Infinity)).toEqual([]);
    });

    it('refuses a score that is not a finite number, writing nothing', async () => {
      for (const score of [Number.NaN, Infinity])
        await expect(store().zAdd('z', [{ member: 'a', score }])).rejects.toMatchObject({
          code: 'store-bad-input',
        });
      expect(await store().ttl('z')).toBeNull();
    });

    it('a set operation on a string key rejects with store-wrong-type and leaves the string', async () => {
      await store().set('str', 'v');
      await expect(store().sAdd('str', ['a'])).rejects.toMatchObject({ code: 'store-wrong-type' });
      await expect(store().zRangeByScore('str', 0, 1)).rejects.toMatchObject({
        code: 'store-wrong-type',
      });
      await expect(store().hGetAll('str')).rejects.toMatchObject({ code: 'store-wrong-type' });
      expect(await store().get('str')).toBe('v');
    });

    it('a write with ttlMs on a key of another type rejects and leaves that key’s expiry as it was', async () => {
      await store().set('str', 'v');
      for (const write of [
        () => store().hSet('str', { a: '1' }, { ttlMs: 100 }),
        () => store().sAdd('str', ['a'], { ttlMs: 100 }),
        () => store().zAdd('str', [{ member: 'a', score: 1 }], { ttlMs: 100 }),
      ])
        await expect(write()).rejects.toMatchObject({ code: 'store-wrong-type' });
      expect(await store().ttl('str')).toBe(Infinity);
      expect(await store().get('str')).toBe('v');
    });
  });
}
