import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../main/core/util/atomic-file.ts';
import { fileStamp } from '../../../main/core/util/file-stamp.ts';
import { STAMP_MAX_AGE_MS, WatchedStamp } from '../../../main/core/util/watched-stamp.ts';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'valet-stamp-'));
  file = join(dir, 'keys.json');
  await writeFile(file, 'one');
});

/** A clock that moves only when the test moves it. */
function manualClock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** Waits (bounded) until `check` holds; the watch reports changes asynchronously. */
async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 5)))
    if (check()) return true;
  return check();
}

describe('WatchedStamp', () => {
  it('keeps the stamp in memory, and looks the file up again once it is older than the bound', async () => {
    const clock = manualClock();
    const stamp = new WatchedStamp(file, { watch: false, now: clock.now });
    const first = stamp.current();
    expect(first).toBe(fileStamp(file));
    await writeFileAtomic(file, 'two, longer');
    clock.advance(STAMP_MAX_AGE_MS - 1);
    expect(stamp.current()).toBe(first);
    clock.advance(1);
    expect(stamp.current()).toBe(fileStamp(file));
    expect(stamp.current()).not.toBe(first);
  });

  it('looks the file up again at once when told it changed', async () => {
    const clock = manualClock();
    const stamp = new WatchedStamp(file, { watch: false, now: clock.now });
    const first = stamp.current();
    await writeFileAtomic(file, 'two, longer');
    stamp.invalidate();
    expect(stamp.current()).not.toBe(first);
    expect(stamp.current()).toBe(fileStamp(file));
  });

  it('sees an atomic replacement by another writer through the directory watch, with its clock stopped', async () => {
    const stamp = new WatchedStamp(file, { now: () => 0 });
    const first = stamp.current();
    await writeFileAtomic(file, 'two, longer');
    expect(await eventually(() => stamp.current() !== first)).toBe(true);
    expect(stamp.current()).toBe(fileStamp(file));
    stamp.close();
  });

  it('sees a file that did not exist being created, and removed', async () => {
    const later = join(dir, 'accounts.json');
    const stamp = new WatchedStamp(later, { now: () => 0 });
    expect(stamp.current()).toBe('none');
    await writeFileAtomic(later, '{}');
    expect(await eventually(() => stamp.current() !== 'none')).toBe(true);
    await rm(later);
    expect(await eventually(() => stamp.current() === 'none')).toBe(true);
    stamp.close();
  });
});
