import { afterEach, describe, expect, it } from 'vitest';
import {
  REFRESH_LOCK_TTL_MS,
  refreshLockKey,
  RefreshLocks,
} from '../../../../main/core/remote/mcp/refresh-lock.ts';
import { MemoryBacking } from '../../../../main/core/remote/store/memory-backing.ts';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';

const PARTITION = 'msal:u:0a1b.contoso';

describe('RefreshLocks: one refresh of a user’s token at a time across instances', () => {
  let clock = 1_000_000;
  const now = () => clock;
  let backing = new MemoryBacking();
  const stores: MemoryStore[] = [];
  /** An instance: its own store over the shared backing, and its locks, on the shared clock. */
  const instance = () => {
    const store = new MemoryStore({ backing, now });
    stores.push(store);
    return { store, locks: new RefreshLocks({ store, now, pollMs: 1 }) };
  };

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    backing = new MemoryBacking();
  });

  it('keeps the lock under lock:msal:… for 10 s and refuses it to another instance until its holder releases it', async () => {
    const a = instance();
    const b = instance();
    const held = await a.locks.take(PARTITION);
    expect(held).toBeDefined();
    expect(refreshLockKey(PARTITION)).toBe('lock:msal:u:0a1b.contoso');
    expect(await a.store.ttl(refreshLockKey(PARTITION))).toBe(REFRESH_LOCK_TTL_MS);
    expect(await b.locks.take(PARTITION)).toBeUndefined();
    await held?.release();
    expect(await b.locks.take(PARTITION)).toBeDefined();
  });

  it('lets a waiter go as soon as the holder releases', async () => {
    const a = instance();
    const b = instance();
    const held = await a.locks.take(PARTITION);
    expect(held).toBeDefined();
    let freed = false;
    const waiting = b.locks.waitFree(PARTITION).then(() => (freed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(freed).toBe(false);
    await held?.release();
    const late = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the waiter was not let go within 2 s')), 2000).unref(),
    );
    await Promise.race([waiting, late]);
    expect(freed).toBe(true);
  });

  it('never deletes a lock another instance took after the first holder’s lock expired', async () => {
    const a = instance();
    const b = instance();
    const stale = await a.locks.take(PARTITION);
    expect(stale).toBeDefined();
    clock += REFRESH_LOCK_TTL_MS + 1;
    const fresh = await b.locks.take(PARTITION);
    expect(fresh).toBeDefined();
    await stale?.release();
    // B still holds it: a third instance cannot take it.
    expect(await instance().locks.take(PARTITION)).toBeUndefined();
    await fresh?.release();
    expect(await instance().locks.take(PARTITION)).toBeDefined();
  });
});
