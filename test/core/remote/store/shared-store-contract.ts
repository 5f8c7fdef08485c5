import { afterEach, beforeEach, describe } from 'vitest';
import type { SharedStore } from '../../../../main/core/remote/store/shared-store.ts';
import { atomicContract } from './contract-atomic.ts';
import { collectionContract } from './contract-collections.ts';
import { lifecycleContract } from './contract-lifecycle.ts';
import { pubSubContract } from './contract-pubsub.ts';
import { streamContract } from './contract-streams.ts';
import { stringContract } from './contract-strings.ts';
import { pass, type ContractContext, type StoreHarness } from './contract-support.ts';

export type { StoreHarness } from './contract-support.ts';

/**
 * Registers the tests every SharedStore must pass, whatever holds the data. `makeHarness` is
 * called before each test for a fresh, empty backing; where the harness cannot move the clock,
 * expiry is tested with short real TTLs (about 100 ms).
 */
export function sharedStoreContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name} keeps the SharedStore contract`, () => {
    let harness: StoreHarness | undefined;
    let store: SharedStore | undefined;

    beforeEach(async () => {
      harness = await makeHarness();
      store = await harness.open();
    });
    afterEach(async () => {
      await harness?.close();
      harness = store = undefined;
    });

    const running = <T>(value: T | undefined): T => {
      if (value === undefined) throw new Error('the contract is read outside a running test');
      return value;
    };
    const context: ContractContext = {
      store: () => running(store),
      harness: () => running(harness),
      pass: (ms) => pass(running(harness), ms),
    };

    stringContract(context);
    collectionContract(context);
    atomicContract(context);
    streamContract(context);
    pubSubContract(context);
    lifecycleContract(context);
  });
}
