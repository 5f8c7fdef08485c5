import { describe, expect, it } from 'vitest';
import { inbox, type ContractContext } from './contract-support.ts';

/** The contract of prefixes, sharing between stores, ping and close. */
export function lifecycleContract({ store, harness }: ContractContext): void {
  describe('prefix', () => {
    it('is mv: unless configured, and key() puts it before a name', () => {
      expect(store().prefix).toBe('mv:');
      expect(store().key('at:abc')).toBe('mv:at:abc');
    });

    it('stores with different prefixes over one backing never see each other’s keys', async () => {
      const a = await harness().open('a:');
      const b = await harness().open('b:');
      await a.set('k', 'from a');
      await b.set('k', 'from b');
      await a.hSet('h', { f: 'a' });
      expect(await a.getDel('k')).toBe('from a');
      expect(await b.get('k')).toBe('from b');
      expect(await b.hGetAll('h')).toEqual({});
      expect(await a.get('k')).toBeNull();
    });

    it('stores with different prefixes over one backing never hear each other’s messages', async () => {
      const a = await harness().open('a:');
      const b = await harness().open('b:');
      const heardByB = await inbox(b, 'ev');
      await a.publish('ev', 'from a');
      await b.publish('ev', 'from b');
      expect(await heardByB.next()).toBe('from b');
      expect(heardByB.messages).toEqual(['from b']);
    });

    it('writes each key under its prefix in the backing', async () => {
      const a = await harness().open('a:');
      const bare = await harness().open('');
      await a.set('at:1', 'token record');
      expect(await bare.get('a:at:1')).toBe('token record');
      expect(await bare.get('at:1')).toBeNull();
    });

    it('stores with the same prefix over one backing share every key, as instances do', async () => {
      const other = await harness().open();
      await store().set('code:1', 'c');
      expect(await other.getDel('code:1')).toBe('c');
      expect(await store().get('code:1')).toBeNull();
    });
  });

  describe('ping and close', () => {
    it('ping resolves while the store is open', async () => {
      await expect(store().ping()).resolves.toBeUndefined();
    });

    it('after close every call rejects with store-closed, and closing again is harmless', async () => {
      const other = await harness().open();
      await store().set('k', 'v');
      await store().close();
      await store().close();
      for (const call of [
        () => store().get('k'),
        () => store().set('k', 'v'),
        () => store().ping(),
        () => store().publish('ev', 'm'),
        () => store().takeToken('rl', { ratePerSecond: 1, burst: 1 }),
      ])
        await expect(call()).rejects.toMatchObject({ code: 'store-closed' });
      expect(await other.get('k')).toBe('v');
    });

    it('a closed store’s listeners hear nothing more', async () => {
      const other = await harness().open();
      let heard = 0;
      await store().subscribe('ev', () => heard++);
      const box = await inbox(other, 'ev');
      await store().close();
      await other.publish('ev', 'after close');
      expect(await box.next()).toBe('after close');
      expect(heard).toBe(0);
    });
  });
}
