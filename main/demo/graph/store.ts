import type { UserData } from './model.ts';
import { seedUserData } from './seed/index.ts';
import type { GraphUser } from './types.ts';

/** Every user's data, seeded at start and changed by sendMail and event creation. */
export class GraphStore {
  readonly #byId = new Map<string, UserData>();
  readonly #byAddress = new Map<string, UserData>();

  constructor(users: readonly GraphUser[], now: Date) {
    for (const user of users) {
      const id = user.id.toLowerCase();
      if (this.#byId.has(id)) throw new Error(`Two Graph stand-in users have the id ${user.id}.`);
      const data = seedUserData(user, now, users);
      this.#byId.set(id, data);
      this.#byAddress.set(user.username.toLowerCase(), data);
    }
  }

  /** The user's canonical ID for a token's `oid` (GUIDs compare case-insensitively). */
  userIdFor(oid: string): string | undefined {
    return this.#byId.get(oid.toLowerCase())?.profile.id;
  }

  /** A user's data by object ID. */
  byId(id: string): UserData | undefined {
    return this.#byId.get(id.toLowerCase());
  }

  /** A user's data by mail address, to deliver mail between stand-in users. */
  byAddress(address: string): UserData | undefined {
    return this.#byAddress.get(address.trim().toLowerCase());
  }
}
