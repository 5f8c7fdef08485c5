import { describe, expect, it } from 'vitest';
import { inbox, type ContractContext } from './contract-support.ts';

/** The contract of pub/sub: fan-out, unsubscribing, separate channels, asynchronous delivery. */
export function pubSubContract({ store, harness }: ContractContext): void {
  describe('pub/sub', () => {
    it('delivers a message to every subscriber of the channel, on this store and another', async () => {
      const other = await harness().open();
      const mine = await inbox(store(), 'ev:approval');
      const theirs = await inbox(other, 'ev:approval');
      await store().publish('ev:approval', 'approval-1');
      expect(await mine.next()).toBe('approval-1');
      expect(await theirs.next()).toBe('approval-1');
    });

    it('delivers in the order published', async () => {
      const box = await inbox(store(), 'ev:revoke');
      for (const id of ['k1', 'k2', 'k3']) await store().publish('ev:revoke', id);
      expect([await box.next(), await box.next(), await box.next()]).toEqual(['k1', 'k2', 'k3']);
    });

    it('an unsubscribed listener gets nothing more', async () => {
      const gone = await inbox(store(), 'ev:revoke');
      const stays = await inbox(store(), 'ev:revoke');
      await gone.unsubscribe();
      await store().publish('ev:revoke', 'k1');
      await store().publish('ev:revoke', 'k2');
      expect([await stays.next(), await stays.next()]).toEqual(['k1', 'k2']);
      expect(gone.messages).toEqual([]);
      await gone.unsubscribe();
    });

    it('a listener is not called once its unsubscribe has resolved, even for a message on its way', async () => {
      let unsubscribed = false;
      let heardAfter = 0;
      const unsubscribe = await store().subscribe('ev:revoke', () => {
        if (unsubscribed) heardAfter++;
      });
      const stays = await inbox(store(), 'ev:revoke');
      await store().publish('ev:revoke', 'k1');
      await unsubscribe();
      unsubscribed = true;
      await store().publish('ev:revoke', 'k2');
      expect([await stays.next(), await stays.next()]).toEqual(['k1', 'k2']);
      expect(heardAfter).toBe(0);
    });

    it('keeps channels apart', async () => {
      const approvals = await inbox(store(), 'ev:approval');
      await store().publish('ev:policy', 'reload');
      await store().publish('ev:approval', 'approval-1');
      expect(await approvals.next()).toBe('approval-1');
      expect(approvals.messages).toEqual(['approval-1']);
    });

    it('never runs a listener inside the call to publish', async () => {
      let heard = false;
      await store().subscribe('ev:approval', () => {
        heard = true;
      });
      const published = store().publish('ev:approval', 'approval-1');
      expect(heard).toBe(false);
      await published;
    });

    it('a listener that throws stops neither the other listeners nor later messages', async () => {
      let thrown = 0;
      await store().subscribe('ev:approval', () => {
        thrown++;
        throw new SyntaxError('listener failed');
      });
      const box = await inbox(store(), 'ev:approval');
      await store().publish('ev:approval', 'first');
      await store().publish('ev:approval', 'second');
      expect([await box.next(), await box.next()]).toEqual(['first', 'second']);
      expect(thrown).toBe(2);
    });
  });
}
