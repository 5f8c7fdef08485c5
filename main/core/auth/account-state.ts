import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../util/atomic-file.ts';

const stateSchema = z.object({
  active: z.string().optional(),
  /** Accounts that live in the OS broker rather than in MSAL's cache. */
  brokerAccounts: z.array(z.string()).default([]),
});

/** Which account is active, and which accounts the broker holds. No secrets. */
export type AccountState = z.infer<typeof stateSchema>;

/**
 * The account pointer file (`accounts.json` in the data dir). It is read fresh on every use
 * because the CLI and a running server may both change it.
 */
export class AccountStateStore {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'accounts.json');
  }

  async read(): Promise<AccountState> {
    const text = await readFileIfExists(this.path);
    if (!text) return { brokerAccounts: [] };
    try {
      return stateSchema.parse(JSON.parse(text));
    } catch {
      // Only a pointer: a damaged file costs the choice of active account, nothing more.
      return { brokerAccounts: [] };
    }
  }

  async update(change: (state: AccountState) => AccountState): Promise<AccountState> {
    const next = change(await this.read());
    await writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`);
    return next;
  }
}
