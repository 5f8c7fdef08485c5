import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../util/atomic-file.ts';
import { fileStamp } from '../util/file-stamp.ts';

const stateSchema = z.object({
  active: z.string().optional(),
  /** Accounts that live in the OS broker rather than in MSAL's cache. */
  brokerAccounts: z.array(z.string()).default([]),
});

/** Which account is active, and which accounts the broker holds. No secrets. */
export type AccountState = z.infer<typeof stateSchema>;

/**
 * The account pointer file (`accounts.json` in the data dir). The CLI and a running server
 * may both change it, so every read checks the file's stamp and re-reads when it moved.
 */
export class AccountStateStore {
  readonly path: string;
  #cached: { stamp: string; state: AccountState } | undefined;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'accounts.json');
  }

  async read(): Promise<AccountState> {
    const stamp = fileStamp(this.path);
    if (this.#cached?.stamp === stamp) return this.#cached.state;
    const state = parseState(stamp === 'none' ? undefined : await readFileIfExists(this.path));
    this.#cached = { stamp, state };
    return state;
  }

  /** The file's current stamp (see fileStamp). */
  stamp(): string {
    return fileStamp(this.path);
  }

  async update(change: (state: AccountState) => AccountState): Promise<AccountState> {
    const next = change(await this.read());
    await writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`);
    return next;
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
