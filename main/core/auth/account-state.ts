import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../util/atomic-file.ts';
import { WatchedStamp, type WatchedStampOptions } from '../util/watched-stamp.ts';

const stateSchema = z.object({
  active: z.string().optional(),
  /** Accounts that live in the OS broker rather than in MSAL's cache. */
  brokerAccounts: z.array(z.string()).default([]),
});

/** Which account is active, and which accounts the broker holds. No secrets. */
export type AccountState = z.infer<typeof stateSchema>;

/**
 * The account pointer file (`accounts.json` in the data dir). The CLI and a running server
 * may both change it, so reads check the file's stamp (kept in memory, see WatchedStamp) and
 * re-read when it moved: at once after this store's own writes, as soon as the file watch
 * reports another process's, and within STAMP_MAX_AGE_MS at worst.
 */
export class AccountStateStore {
  readonly path: string;
  readonly #stamp: WatchedStamp;
  #cached: { stamp: string; state: AccountState } | undefined;

  constructor(dataDir: string, options: WatchedStampOptions = {}) {
    this.path = join(dataDir, 'accounts.json');
    this.#stamp = new WatchedStamp(this.path, options);
  }

  async read(): Promise<AccountState> {
    const stamp = this.#stamp.current();
    if (this.#cached?.stamp === stamp) return this.#cached.state;
    const state = parseState(stamp === 'none' ? undefined : await readFileIfExists(this.path));
    this.#cached = { stamp, state };
    return state;
  }

  /** The file's current stamp (see WatchedStamp). */
  stamp(): string {
    return this.#stamp.current();
  }

  async update(change: (state: AccountState) => AccountState): Promise<AccountState> {
    const next = change(await this.read());
    try {
      await writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`);
    } finally {
      this.#stamp.invalidate();
    }
    return next;
  }

  /** Stops watching the file. */
  close(): void {
    this.#stamp.close();
  }
}

function parseState(text: string | undefined): AccountState {
  if (!text) return { brokerAccounts: [] };
  try {
    return stateSchema.parse(JSON.parse(text));
  } catch {
    // Only a pointer: a damaged file costs the choice of active account, nothing more.
    return { brokerAccounts: [] };
  }
}
