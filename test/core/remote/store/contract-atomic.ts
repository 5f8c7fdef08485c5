import { describe, expect, it } from 'vitest';
import type { AdmitRequest } from '../../../../main/core/remote/store/shared-store.ts';
import { atOnce, type ContractContext } from './contract-support.ts';

/** The contract of the atomic compound operations: the token bucket and in-flight slots. */
export function atomicContract({ store, pass }: ContractContext): void {
  describe('token bucket', () => {
    it('lets a burst through, then refuses with the time until the next token', async () => {
      const bucket = { ratePerSecond: 1, burst: 3 };
      const takes = [];
      for (let i = 0; i < 4; i++) takes.push(await store().takeToken('rl:k1', bucket));
      expect(takes.slice(0, 3)).toEqual([
        { allowed: true, remaining: 2 },
        { allowed: true, remaining: 1 },
        { allowed: true, remaining: 0 },
      ]);
      expect(takes[3]).toMatchObject({ allowed: false });
      const { retryAfterMs } = takes[3] as { retryAfterMs: number };
      expect(retryAfterMs).toBeGreaterThan(900);
      expect(retryAfterMs).toBeLessThanOrEqual(1000);
    });

    it('refills at its rate: a refused caller that waits retryAfterMs gets through', async () => {
      const bucket = { ratePerSecond: 10, burst: 2 };
      await store().takeToken('rl:k1', bucket);
      await store().takeToken('rl:k1', bucket);
      const refused = await store().takeToken('rl:k1', bucket);
      expect(refused.allowed).toBe(false);
      const { retryAfterMs } = refused as { retryAfterMs: number };
      expect(retryAfterMs).toBeLessThanOrEqual(100);
      await pass(retryAfterMs + 5);
      expect((await store().takeToken('rl:k1', bucket)).allowed).toBe(true);
      expect((await store().takeToken('rl:k1', bucket)).allowed).toBe(false);
    });

    it('never holds more than burst, however long it was idle', async () => {
      const bucket = { ratePerSecond: 20, burst: 3 };
      await store().takeToken('rl:k1', bucket);
      await pass(500);
      const takes = await atOnce(10, () => store().takeToken('rl:k1', bucket));
      expect(takes.filter((t) => t.allowed)).toHaveLength(3);
    });

    it('of 50 concurrent takes exactly burst get through', async () => {
      const takes = await atOnce(50, () =>
        store().takeToken('rl:k1', { ratePerSecond: 0.01, burst: 10 }),
      );
      expect(takes.filter((t) => t.allowed)).toHaveLength(10);
    });

    it('a bucket whose record cannot be read counts as empty: refused, then refilled', async () => {
      const bucket = { ratePerSecond: 10, burst: 5 };
      await store().hSet('rl:k1', { tokens: 'not a number', ts: 'never' });
      const refused = await store().takeToken('rl:k1', bucket);
      expect(refused.allowed).toBe(false);
      const { retryAfterMs } = refused as { retryAfterMs: number };
      expect(retryAfterMs).toBeGreaterThan(0);
      expect(retryAfterMs).toBeLessThanOrEqual(100);
      await pass(retryAfterMs + 5);
      expect((await store().takeToken('rl:k1', bucket)).allowed).toBe(true);
    });

    it('keeps one bucket per key', async () => {
      const bucket = { ratePerSecond: 0.01, burst: 1 };
      expect((await store().takeToken('rl:k1', bucket)).allowed).toBe(true);
      expect((await store().takeToken('rl:k1', bucket)).allowed).toBe(false);
      expect((await store().takeToken('rl:k2', bucket)).allowed).toBe(true);
    });

    it('refuses a bucket without a positive rate or a whole burst', async () => {
      for (const bucket of [
        { ratePerSecond: 0, burst: 1 },
        { ratePerSecond: Number.NaN, burst: 1 },
        { ratePerSecond: 1, burst: 0 },
        { ratePerSecond: 1, burst: 1.5 },
      ])
        await expect(store().takeToken('rl:k1', bucket)).rejects.toMatchObject({
          code: 'store-bad-input',
        });
    });
  });

  describe('in-flight slots', () => {
    const slot = { cap: 5, ttlMs: 10_000 };

    it('holds the cap under 50 concurrent acquires', async () => {
      const got = await atOnce(50, (i) => store().acquireSlot('inflight:k1', `req-${i}`, slot));
      expect(got.filter(Boolean)).toHaveLength(5);
    });

    it('a released slot can be taken again; releasing a slot never held answers false', async () => {
      const one = { cap: 1, ttlMs: 10_000 };
      expect(await store().acquireSlot('inflight:k1', 'r1', one)).toBe(true);
      expect(await store().acquireSlot('inflight:k1', 'r2', one)).toBe(false);
      expect(await store().releaseSlot('inflight:k1', 'r1')).toBe(true);
      expect(await store().releaseSlot('inflight:k1', 'r1')).toBe(false);
      expect(await store().acquireSlot('inflight:k1', 'r2', one)).toBe(true);
    });

    it('a request that asks again keeps its one slot instead of taking a second', async () => {
      const two = { cap: 2, ttlMs: 10_000 };
      expect(await store().acquireSlot('inflight:k1', 'r1', two)).toBe(true);
      expect(await store().acquireSlot('inflight:k1', 'r1', two)).toBe(true);
      expect(await store().acquireSlot('inflight:k1', 'r2', two)).toBe(true);
      expect(await store().acquireSlot('inflight:k1', 'r3', two)).toBe(false);
    });

    it('a slot whose holder never released it frees itself at its deadline', async () => {
      const one = { cap: 1, ttlMs: 100 };
      expect(await store().acquireSlot('inflight:k1', 'crashed', one)).toBe(true);
      expect(await store().acquireSlot('inflight:k1', 'r2', one)).toBe(false);
      await pass(150);
      expect(await store().acquireSlot('inflight:k1', 'r2', one)).toBe(true);
    });

    it('a dead holder’s slot frees at its deadline even while a later holder keeps the key', async () => {
      const two = { cap: 2, ttlMs: 200 };
      expect(await store().acquireSlot('inflight:k1', 'crashed', two)).toBe(true);
      await pass(100);
      expect(await store().acquireSlot('inflight:k1', 'live', two)).toBe(true);
      expect(await store().acquireSlot('inflight:k1', 'r3', two)).toBe(false);
      await pass(120);
      expect(await store().acquireSlot('inflight:k1', 'r3', two)).toBe(true);
      expect(await store().acquireSlot('inflight:k1', 'r4', two)).toBe(false);
    });

    it('the slots key itself is gone once its last deadline has passed', async () => {
      await store().acquireSlot('inflight:k1', 'r1', { cap: 2, ttlMs: 100 });
      expect(await store().ttl('inflight:k1')).toBeLessThanOrEqual(100);
      await pass(150);
      expect(await store().ttl('inflight:k1')).toBeNull();
    });

    it('keeps separate slots per key', async () => {
      const one = { cap: 1, ttlMs: 10_000 };
      expect(await store().acquireSlot('inflight:k1', 'r1', one)).toBe(true);
      expect(await store().acquireSlot('inflight:k2', 'r1', one)).toBe(true);
    });
  });

  describe('admission in one step', () => {
    const slow = { ratePerSecond: 0.001, burst: 2 };
    const request = (member: string, cap = 10) => ({
      buckets: [
        { key: 'rl:key', bucket: { ratePerSecond: 0.001, burst: 1 } },
        { key: 'rl:user', bucket: slow },
      ],
      slot: { key: 'inflight:key', member, limits: { cap, ttlMs: 60_000 } },
    });

    it('lets a request in with a token of each bucket and a slot', async () => {
      expect(await store().admit(request('r1'))).toEqual({ admitted: true });
      expect(await store().zRangeByScore('inflight:key', -Infinity, Infinity)).toHaveLength(1);
      expect(await store().takeToken('rl:user', slow)).toMatchObject({
        allowed: true,
        remaining: 0,
      });
    });

    it('stops at the first bucket that refuses: later buckets keep their tokens, and no slot is taken', async () => {
      await store().admit(request('r1'));
      const refused = await store().admit(request('r2'));
      expect(refused).toMatchObject({ admitted: false, refusedBy: 'bucket', index: 0 });
      expect(
        refused.admitted === false && refused.refusedBy === 'bucket' && refused.retryAfterMs,
      ).toBeGreaterThan(0);
      // The user's bucket gave one token (to r1), not two.
      expect(await store().takeToken('rl:user', slow)).toMatchObject({
        allowed: true,
        remaining: 0,
      });
      expect(await store().zRangeByScore('inflight:key', -Infinity, Infinity)).toHaveLength(1);
    });

    it('is refused by a full slot after taking its tokens, as takeToken then acquireSlot would be', async () => {
      await store().acquireSlot('inflight:key', 'other', { cap: 1, ttlMs: 60_000 });
      expect(await store().admit(request('r1', 1))).toEqual({ admitted: false, refusedBy: 'slot' });
      expect(await store().takeToken('rl:user', slow)).toMatchObject({
        allowed: true,
        remaining: 0,
      });
    });

    describe('with checks', () => {
      const roomy = { ratePerSecond: 0.001, burst: 5 };
      const checked = (member: string) => ({
        checks: [
          { key: 'at:t1', holds: 'key' as const },
          { key: 'key:k1', holds: 'no-field' as const, field: 'revokedAt' },
          { key: 'keytokens:k1', holds: 'member' as const, member: 'at:t1' },
        ],
        buckets: [{ key: 'rl:checked', bucket: roomy }],
        slot: { key: 'inflight:checked', member, limits: { cap: 10, ttlMs: 60_000 } },
      });
      const counted = async () => ({
        slots: (await store().zRangeByScore('inflight:checked', -Infinity, Infinity)).length,
        ttl: await store().ttl('rl:checked'),
      });
      const live = async () => {
        await store().set('at:t1', '{}', { ttlMs: 60_000 });
        await store().hSet('key:k1', { oid: 'u1' });
        await store().zAdd('keytokens:k1', [{ member: 'at:t1', score: 1 }]);
      };

      it('lets a request in when every check holds', async () => {
        await live();
        expect(await store().admit(checked('r1'))).toEqual({ admitted: true });
        expect((await counted()).slots).toBe(1);
      });

      it('counts nothing, in any bucket or slot, when a check fails, and names the first that failed', async () => {
        const breaks = [
          () => store().del('at:t1'),
          () => store().hSet('key:k1', { revokedAt: 'now' }),
          () => store().zRem('keytokens:k1', ['at:t1']),
        ];
        for (const [index, breakIt] of breaks.entries()) {
          await live();
          await store().hDel('key:k1', ['revokedAt']);
          await breakIt();
          expect(await store().admit(checked(`r${index}`))).toEqual({
            admitted: false,
            refusedBy: 'check',
            index,
          });
          expect(await counted()).toEqual({ slots: 0, ttl: null });
        }
        // Every check true again: the bucket is whole, its first token taken now.
        await live();
        await store().hDel('key:k1', ['revokedAt']);
        expect(await store().admit(checked('r9'))).toEqual({ admitted: true });
        expect(await store().takeToken('rl:checked', roomy)).toMatchObject({ remaining: 3 });
      });

      it('refuses a check of a key of another type with store-wrong-type, counting nothing', async () => {
        await live();
        await store().set('key:k1', 'a string');
        await expect(store().admit(checked('r1'))).rejects.toMatchObject({
          code: 'store-wrong-type',
        });
        expect(await counted()).toEqual({ slots: 0, ttl: null });
      });

      it('refuses a check of an unknown kind or without its argument, before anything is read', async () => {
        for (const check of [
          { key: 'at:t1', holds: 'anything' },
          { key: 'key:k1', holds: 'no-field' },
          { key: 'keytokens:k1', holds: 'member', member: 7 },
        ]) {
          const bad = { ...checked('r1'), checks: [check] } as unknown as AdmitRequest;
          await expect(store().admit(bad)).rejects.toMatchObject({ code: 'store-bad-input' });
        }
        expect(await counted()).toEqual({ slots: 0, ttl: null });
      });
    });

    it('of 30 concurrent requests lets in exactly as many as the slots allow', async () => {
      const roomy = { ratePerSecond: 1, burst: 1000 };
      const results = await atOnce(30, (i) =>
        store().admit({
          buckets: [{ key: 'rl:many', bucket: roomy }],
          slot: { key: 'inflight:many', member: `r${i}`, limits: { cap: 5, ttlMs: 60_000 } },
        }),
      );
      expect(results.filter((r) => r.admitted)).toHaveLength(5);
    });
  });
}
