import { describe, expect, it } from 'vitest';
import type { StreamEntry } from '../../../../main/core/remote/store/shared-store.ts';
import { atOnce, type ContractContext } from './contract-support.ts';

/** A stream ID as two numbers, to compare IDs as Redis orders them. */
function idParts(id: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(id);
  if (!m) throw new Error(`not a stream ID: ${id}`);
  return [Number(m[1]), Number(m[2])];
}

function before(a: string, b: string): boolean {
  const [am, as] = idParts(a);
  const [bm, bs] = idParts(b);
  return am < bm || (am === bm && as < bs);
}

const ids = (entries: StreamEntry[]) => entries.map((e) => e.id);
const ns = (entries: StreamEntry[]) => entries.map((e) => e.fields.n ?? '(no n)');

/** The contract of capped streams: the cross-instance activity feed (XADD, XREVRANGE, XRANGE). */
export function streamContract({ store, harness }: ContractContext): void {
  describe('streams', () => {
    it('adds entries with growing IDs and gives back exactly their fields, newest first or oldest first', async () => {
      const added = await store().streamAdd(
        'audit',
        [
          { n: '1', tool: 'list_messages', client: 'Zoë ✉ "VS Code"' },
          { n: '2', tool: 'send_mail' },
        ],
        { maxLen: 100 },
      );
      const [third] = await store().streamAdd('audit', [{ n: '3', empty: '' }], { maxLen: 100 });
      const all = [...added, third!];
      expect(all).toHaveLength(3);
      expect(before(all[0]!, all[1]!) && before(all[1]!, all[2]!)).toBe(true);

      const newest = await store().streamNewest('audit', { count: 10 });
      expect(ids(newest)).toEqual([...all].reverse());
      expect(newest[2]!.fields).toEqual({
        n: '1',
        tool: 'list_messages',
        client: 'Zoë ✉ "VS Code"',
      });
      expect(newest[0]!.fields).toEqual({ n: '3', empty: '' });
      expect(ns(await store().streamAfter('audit', { count: 10 }))).toEqual(['1', '2', '3']);
    });

    it('count takes the newest (or oldest) entries only, and before/after page through every entry once', async () => {
      for (let n = 1; n <= 25; n++)
        await store().streamAdd('audit', [{ n: String(n) }], { maxLen: 1000 });
      expect(ns(await store().streamNewest('audit', { count: 3 }))).toEqual(['25', '24', '23']);
      expect(ns(await store().streamAfter('audit', { count: 3 }))).toEqual(['1', '2', '3']);

      const back: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await store().streamNewest('audit', {
          count: 10,
          ...(cursor ? { before: cursor } : {}),
        });
        if (page.length === 0) break;
        back.push(...ns(page));
        cursor = page.at(-1)!.id;
      }
      expect(back).toEqual(Array.from({ length: 25 }, (_, i) => String(25 - i)));

      const forward: string[] = [];
      cursor = undefined;
      for (;;) {
        const page = await store().streamAfter('audit', {
          count: 7,
          ...(cursor ? { after: cursor } : {}),
        });
        if (page.length === 0) break;
        forward.push(...ns(page));
        cursor = page.at(-1)!.id;
      }
      expect(forward).toEqual(Array.from({ length: 25 }, (_, i) => String(i + 1)));
    });

    it('a reader that remembers the last ID it saw gets only what was added since', async () => {
      await store().streamAdd('audit', [{ n: '1' }, { n: '2' }], { maxLen: 100 });
      const seen = (await store().streamNewest('audit', { count: 1 }))[0]!.id;
      expect(await store().streamAfter('audit', { count: 10, after: seen })).toEqual([]);
      await store().streamAdd('audit', [{ n: '3' }], { maxLen: 100 });
      expect(ns(await store().streamAfter('audit', { count: 10, after: seen }))).toEqual(['3']);
    });

    it('is capped near maxLen: the newest maxLen entries are always kept, and it does not grow past a little more', async () => {
      const maxLen = 200;
      for (let batch = 0; batch < 20; batch++)
        await store().streamAdd(
          'audit',
          Array.from({ length: 100 }, (_, i) => ({ n: String(batch * 100 + i + 1) })),
          { maxLen },
        );
      const kept = await store().streamNewest('audit', { count: 5000 });
      expect(kept.length).toBeGreaterThanOrEqual(maxLen);
      expect(kept.length).toBeLessThanOrEqual(2 * maxLen);
      expect(ns(kept).slice(0, maxLen)).toEqual(
        Array.from({ length: maxLen }, (_, i) => String(2000 - i)),
      );
    });

    it('stores over one backing add to one stream, as instances over one Redis do, with distinct, ordered IDs', async () => {
      const other = await harness().open();
      const added = await atOnce(60, (i) =>
        (i % 2 ? store() : other).streamAdd('audit', [{ n: String(i) }], { maxLen: 1000 }),
      );
      const all = await store().streamAfter('audit', { count: 1000 });
      expect(all).toHaveLength(60);
      expect(new Set(ids(all)).size).toBe(60);
      expect(new Set(added.flat())).toEqual(new Set(ids(all)));
      for (let i = 1; i < all.length; i++) expect(before(all[i - 1]!.id, all[i]!.id)).toBe(true);
    });

    it('a stream that was never written reads as empty; del removes one; it never expires by itself', async () => {
      expect(await store().streamNewest('nothing', { count: 10 })).toEqual([]);
      expect(await store().streamAfter('nothing', { count: 10 })).toEqual([]);
      await store().streamAdd('audit', [{ n: '1' }], { maxLen: 10 });
      expect(await store().ttl('audit')).toBe(Infinity);
      expect(await store().del('audit')).toBe(true);
      expect(await store().streamNewest('audit', { count: 10 })).toEqual([]);
    });

    it('adding no entries writes nothing and answers no IDs', async () => {
      expect(await store().streamAdd('audit', [], { maxLen: 10 })).toEqual([]);
      expect(await store().ttl('audit')).toBeNull();
    });

    it('a stream operation on a string key rejects with store-wrong-type and leaves the string; a string read of a stream does too', async () => {
      await store().set('str', 'v');
      await expect(store().streamAdd('str', [{ n: '1' }], { maxLen: 10 })).rejects.toMatchObject({
        code: 'store-wrong-type',
      });
      await expect(store().streamNewest('str', { count: 1 })).rejects.toMatchObject({
        code: 'store-wrong-type',
      });
      await expect(store().streamAfter('str', { count: 1 })).rejects.toMatchObject({
        code: 'store-wrong-type',
      });
      expect(await store().get('str')).toBe('v');
      await store().streamAdd('audit', [{ n: '1' }], { maxLen: 10 });
      await expect(store().get('audit')).rejects.toMatchObject({ code: 'store-wrong-type' });
      await expect(store().hGetAll('audit')).rejects.toMatchObject({ code: 'store-wrong-type' });
    });

    it('refuses bad input with store-bad-input naming the argument, and writes nothing', async () => {
      const refuse = async (call: () => Promise<unknown>, words: RegExp) => {
        const err: unknown = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: 'store-bad-input' });
        expect((err as Error).message).toMatch(words);
      };
      const add = (entries: unknown, maxLen: unknown) =>
        store().streamAdd('audit', entries as Record<string, string>[], {
          maxLen: maxLen as number,
        });
      await refuse(() => add([{ n: '1' }, {}], 10), /stream entry needs at least one field/);
      await refuse(() => add([{ n: 1 }], 10), /value must be a string/);
      for (const maxLen of [0, -1, 1.5, NaN, undefined, '10'])
        await refuse(() => add([{ n: '1' }], maxLen), /maxLen must be a whole number/);
      for (const count of [0, -1, 2.5, NaN, undefined])
        await refuse(
          () => store().streamNewest('audit', { count: count as number }),
          /count must be a whole number/,
        );
      for (const id of ['abc', '1-2-3', '', ' 1-0', '+'])
        await refuse(
          () => store().streamAfter('audit', { count: 1, after: id }),
          /stream ID must be written <milliseconds>-<number>/,
        );
      await refuse(
        () => store().streamNewest('audit', { count: 1, before: 'x' }),
        /stream ID must be written/,
      );
      expect(await store().ttl('audit')).toBeNull();
    });
  });
}
