import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MemoryBacking } from '../../../../main/core/remote/store/memory-backing.ts';
import { MemoryStore } from '../../../../main/core/remote/store/memory-store.ts';
import type { Logger } from '../../../../main/core/util/logger.ts';
import { sharedStoreContract, type StoreHarness } from './shared-store-contract.ts';
import { expectAllRefusedAsClosed } from './contract-support.ts';

/** Stores over one backing and one clock that the test moves (or the real one). */
function memoryHarness({ sweepIntervalMs = 30_000, realClock = false } = {}) {
  let now = Date.UTC(2026, 0, 1);
  const clock = realClock ? Date.now : () => now;
  const backing = new MemoryBacking();
  const opened: MemoryStore[] = [];
  const harness = {
    backing,
    async open(prefix?: string) {
      const store = new MemoryStore({ prefix, backing, now: clock, sweepIntervalMs });
      opened.push(store);
      return store;
    },
    advance(ms: number) {
      now += ms;
    },
    async close() {
      await Promise.all(opened.map((store) => store.close()));
    },
  } satisfies StoreHarness & { backing: MemoryBacking };
  return harness;
}

/** Waits up to 2 s for `check` to hold. */
async function eventually(check: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 2000; !check(); await sleep(10))
    if (Date.now() > deadline) throw new Error('the condition did not hold within 2 s');
}

sharedStoreContract('MemoryStore', async () => memoryHarness());

// The same contract on the real clock, as a store whose clock cannot be moved is tested.
sharedStoreContract('MemoryStore on the real clock', async () => {
  const { open, close } = memoryHarness({ realClock: true });
  return { open, close };
});

describe('MemoryStore', () => {
  it('its periodic sweep drops expired and removed keys, so memory stays bounded', async () => {
    const harness = memoryHarness({ sweepIntervalMs: 20 });
    const store = await harness.open();
    for (let i = 0; i < 1000; i++) await store.set(`code:${i}`, 'c', { ttlMs: 60_000 });
    for (let i = 0; i < 100; i++) await store.set(`lock:${i}`, 'l');
    for (let i = 0; i < 100; i++) await store.getDel(`lock:${i}`);
    await store.set('kept', 'v');
    expect(harness.backing.size).toBe(1101);
    harness.advance(60_000);
    await eventually(() => harness.backing.size === 1);
    expect(await store.get('kept')).toBe('v');
    await harness.close();
  });

  it('close stops the sweep', async () => {
    const harness = memoryHarness({ sweepIntervalMs: 20 });
    const store = await harness.open();
    for (let i = 0; i < 10; i++) await store.set(`code:${i}`, 'c', { ttlMs: 100 });
    await store.close();
    harness.advance(200);
    await sleep(100);
    expect(harness.backing.size).toBe(10);
  });

  it('every operation after close rejects with an error that says the store is closed', async () => {
    const store = new MemoryStore();
    await store.close();
    await expectAllRefusedAsClosed(store);
  });

  it('a store left open does not keep the process alive', async () => {
    const url = new URL('../../../../main/core/remote/store/memory-store.ts', import.meta.url);
    const script = `import { MemoryStore } from ${JSON.stringify(url.href)};
      const store = new MemoryStore({ sweepIntervalMs: 1000 });
      await store.set('k', 'v', { ttlMs: 60000 });`;
    const run = promisify(execFile);
    const started = Date.now();
    await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reports a throwing listener by channel and error name, never with the message', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };
    const store = new MemoryStore({ logger });
    await store.subscribe('ev:approval', (message) => JSON.parse(message));
    const delivered = new Promise<void>(
      (resolve) => void store.subscribe('ev:approval', () => resolve()),
    );
    await store.publish('ev:approval', 'secret-body-not-json');
    await delivered;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('mv:ev:approval');
    expect(warnings[0]).toContain('SyntaxError');
    expect(warnings.join('\n')).not.toContain('secret-body');
    await store.close();
  });

  it('refuses a prefix with spaces, naming VALET_REDIS_PREFIX', () => {
    expect(() => new MemoryStore({ prefix: 'mv prod:' })).toThrow(/VALET_REDIS_PREFIX/);
  });
});
