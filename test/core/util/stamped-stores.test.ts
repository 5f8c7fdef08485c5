import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { AccountStateStore } from '../../../main/core/auth/account-state.ts';
import { DEFAULT_POLICY } from '../../../main/core/policy/policy-schema.ts';
import { PolicyStore } from '../../../main/core/policy/policy-store.ts';
import { writeFileAtomic } from '../../../main/core/util/atomic-file.ts';
import { silentLogger } from '../../../main/core/util/logger.ts';
import { STAMP_MAX_AGE_MS } from '../../../main/core/util/watched-stamp.ts';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'valet-stamped-'));
});

// The stores keep their file's stamp in memory; with no watch and a clock that stands still,
// only their own writes (or the bound) can make them read the file again.
describe('stores that keep their file in memory', () => {
  it('the policy store applies its own tool switch to the very next call', async () => {
    const file = join(dataDir, 'config.json');
    await writeFile(file, '{}');
    const store = new PolicyStore(file, DEFAULT_POLICY, silentLogger, {
      watch: false,
      now: () => 0,
    });
    expect((await store.current()).tools.search_people?.enabled ?? true).toBe(true);
    await store.setToolEnabled('search_people', false);
    expect((await store.current()).tools.search_people?.enabled).toBe(false);
  });

  it('the policy store applies an edit by hand within STAMP_MAX_AGE_MS, with no watch', async () => {
    const file = join(dataDir, 'config.json');
    await writeFile(file, '{}');
    let now = 0;
    const store = new PolicyStore(file, DEFAULT_POLICY, silentLogger, {
      watch: false,
      now: () => now,
    });
    await store.current();
    await writeFileAtomic(
      file,
      JSON.stringify({ policy: { tools: { list_events: { enabled: false } } } }),
    );
    now += STAMP_MAX_AGE_MS;
    expect((await store.current()).tools.list_events?.enabled).toBe(false);
  });

  it('the account pointer reads back its own update at once', async () => {
    const store = new AccountStateStore(dataDir, { watch: false, now: () => 0 });
    expect((await store.read()).active).toBeUndefined();
    const before = store.stamp();
    await store.update((s) => ({ ...s, active: 'oid.tid' }));
    expect(store.stamp()).not.toBe(before);
    expect((await store.read()).active).toBe('oid.tid');
  });
});
