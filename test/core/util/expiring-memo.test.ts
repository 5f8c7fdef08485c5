import { describe, expect, it } from 'vitest';
import { ExpiringMemo } from '../../../main/core/util/expiring-memo.ts';

describe('ExpiringMemo', () => {
  it('returns a value until its deadline and never after it', () => {
    let now = 1_000;
    const memo = new ExpiringMemo<string>(10, () => now);
    memo.set('a', 'first', 2_000);
    expect(memo.get('a')).toBe('first');
    now = 1_999;
    expect(memo.get('a')).toBe('first');
    now = 2_000;
    expect(memo.get('a')).toBeUndefined();
    expect(memo.size).toBe(0);
  });

  it('keeps nothing whose deadline has already passed', () => {
    const memo = new ExpiringMemo<string>(10, () => 5_000);
    memo.set('a', 'late', 5_000);
    expect(memo.get('a')).toBeUndefined();
    expect(memo.size).toBe(0);
  });

  it('holds at most its capacity, pushing out the least recently used entry first', () => {
    const memo = new ExpiringMemo<number>(3, () => 0);
    for (const [i, key] of ['a', 'b', 'c'].entries()) memo.set(key, i, 100);
    expect(memo.get('a')).toBe(0); // a is now the most recently used
    memo.set('d', 3, 100);
    expect(memo.size).toBe(3);
    expect(memo.get('b')).toBeUndefined();
    expect([memo.get('a'), memo.get('c'), memo.get('d')]).toEqual([0, 2, 3]);
    for (let i = 0; i < 10_000; i++) memo.set(`k${i}`, i, 100);
    expect(memo.size).toBe(3);
  });

  it('forgets everything when cleared', () => {
    const memo = new ExpiringMemo<number>(3, () => 0);
    memo.set('a', 1, 100);
    memo.clear();
    expect(memo.get('a')).toBeUndefined();
  });

  it('refuses a capacity below one, which would remember nothing', () => {
    expect(() => new ExpiringMemo(0)).toThrow(/at least one entry/);
  });
});
