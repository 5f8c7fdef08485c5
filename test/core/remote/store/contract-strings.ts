import { describe, expect, it } from 'vitest';
import { atOnce, type ContractContext } from './contract-support.ts';

/** The contract of strings: values, expiry, set-if-absent and single-use reads. */
export function stringContract({ store, pass }: ContractContext): void {
  describe('strings', () => {
    it('gives back exactly the string stored, and null for a key never set', async () => {
      const value = '{"name":"Zoë ✉","n":1}\n' + 'x'.repeat(10_000);
      expect(await store().set('s', value)).toBe(true);
      expect(await store().get('s')).toBe(value);
      expect(await store().set('empty', '')).toBe(true);
      expect(await store().get('empty')).toBe('');
      expect(await store().get('never')).toBeNull();
    });

    it('forgets a string once its ttlMs has passed, for get, getDel and ttl alike', async () => {
      await store().set('code', 'c1', { ttlMs: 100 });
      expect(await store().get('code')).toBe('c1');
      const left = await store().ttl('code');
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(100);
      await pass(150);
      expect(await store().get('code')).toBeNull();
      expect(await store().getDel('code')).toBeNull();
      expect(await store().ttl('code')).toBeNull();
    });

    it('set without ttlMs stores a value that never expires, clearing an earlier expiry', async () => {
      await store().set('k', 'old', { ttlMs: 100 });
      await store().set('k', 'new');
      expect(await store().ttl('k')).toBe(Infinity);
      await pass(150);
      expect(await store().get('k')).toBe('new');
    });

    it('expire gives an existing key a lifetime and answers false for a missing one', async () => {
      await store().set('k', 'v');
      expect(await store().expire('k', 100)).toBe(true);
      expect(await store().expire('missing', 100)).toBe(false);
      expect(await store().get('missing')).toBeNull();
      await pass(150);
      expect(await store().get('k')).toBeNull();
    });

    it('del removes a key and answers whether it was there', async () => {
      await store().set('k', 'v');
      expect(await store().del('k')).toBe(true);
      expect(await store().del('k')).toBe(false);
      expect(await store().get('k')).toBeNull();
    });

    it('set onlyIfAbsent writes once: of 50 concurrent callers exactly one wins, and its value stays', async () => {
      const won = await atOnce(50, (i) =>
        store().set('lock', `caller-${i}`, { onlyIfAbsent: true }),
      );
      const winners = won.flatMap((ok, i) => (ok ? [i] : []));
      expect(winners).toHaveLength(1);
      expect(await store().get('lock')).toBe(`caller-${winners[0]}`);
    });

    it('set onlyIfAbsent writes again once the earlier value has expired', async () => {
      await store().set('lock', 'first', { ttlMs: 100, onlyIfAbsent: true });
      expect(await store().set('lock', 'second', { onlyIfAbsent: true })).toBe(false);
      await pass(150);
      expect(await store().set('lock', 'third', { onlyIfAbsent: true })).toBe(true);
      expect(await store().get('lock')).toBe('third');
    });

    it('delIfValue removes a lock only for its holder: not once it expired and another took it', async () => {
      await store().set('lock', 'first-holder', { ttlMs: 100, onlyIfAbsent: true });
      expect(await store().delIfValue('lock', 'someone-else')).toBe(false);
      expect(await store().get('lock')).toBe('first-holder');
      await pass(150);
      expect(
        await store().set('lock', 'second-holder', { ttlMs: 60_000, onlyIfAbsent: true }),
      ).toBe(true);
      expect(await store().delIfValue('lock', 'first-holder')).toBe(false);
      expect(await store().get('lock')).toBe('second-holder');
      expect(await store().delIfValue('lock', 'second-holder')).toBe(true);
      expect(await store().get('lock')).toBeNull();
      expect(await store().delIfValue('lock', 'second-holder')).toBe(false);
    });

    it('delIfValue on a key of another type rejects with store-wrong-type and leaves it', async () => {
      await store().hSet('h', { a: '1' });
      await expect(store().delIfValue('h', '1')).rejects.toMatchObject({
        code: 'store-wrong-type',
      });
      expect(await store().hGetAll('h')).toEqual({ a: '1' });
    });

    it('getDel hands a value out once: of 50 concurrent callers exactly one gets it', async () => {
      await store().set('code', 'single-use', { ttlMs: 60_000 });
      const got = await atOnce(50, () => store().getDel('code'));
      expect(got.filter((v) => v === 'single-use')).toHaveLength(1);
      expect(got.filter((v) => v === null)).toHaveLength(49);
      expect(await store().get('code')).toBeNull();
    });

    it('refuses a bad expiry or a value that is not a string with store-bad-input, writing nothing', async () => {
      for (const ttlMs of [0, -5, Number.NaN, Infinity, 1.5])
        await expect(store().set('k', 'v', { ttlMs })).rejects.toMatchObject({
          code: 'store-bad-input',
        });
      await expect(store().set('k', { a: 1 } as unknown as string)).rejects.toMatchObject({
        code: 'store-bad-input',
      });
      await expect(store().expire('k', 0)).rejects.toMatchObject({ code: 'store-bad-input' });
      expect(await store().get('k')).toBeNull();
    });

    it('a string read on a hash key rejects with store-wrong-type; set replaces any type', async () => {
      await store().hSet('h', { a: '1' });
      await expect(store().get('h')).rejects.toMatchObject({ code: 'store-wrong-type' });
      await expect(store().getDel('h')).rejects.toMatchObject({ code: 'store-wrong-type' });
      expect(await store().set('h', 'now a string')).toBe(true);
      expect(await store().get('h')).toBe('now a string');
    });
  });
}
