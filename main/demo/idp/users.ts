import { createHash, timingSafeEqual } from 'node:crypto';
import type { IdpUser } from './types.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is a GUID, the form of Entra object, tenant and client IDs. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The IdP's users, looked up by object ID or by sign-in name. */
export class UserDirectory {
  readonly users: readonly IdpUser[];
  #byId = new Map<string, IdpUser>();
  #byUsername = new Map<string, IdpUser>();

  constructor(users: readonly IdpUser[]) {
    for (const user of users) {
      if (!isGuid(user.id))
        throw new Error(`User ${user.username}: id must be a GUID, got "${user.id}".`);
      const username = user.username.toLowerCase();
      if (this.#byUsername.has(username)) throw new Error(`Two users are named ${user.username}.`);
      if (this.#byId.has(user.id.toLowerCase()))
        throw new Error(`Two users have the id ${user.id}.`);
      this.#byId.set(user.id.toLowerCase(), user);
      this.#byUsername.set(username, user);
    }
    this.users = users;
  }

  /** The user with this object ID (the OpenID `sub`). */
  byId(id: string): IdpUser | undefined {
    return this.#byId.get(id.toLowerCase());
  }

  /** The user with this sign-in name; case-insensitive, as in Entra. */
  byUsername(username: string): IdpUser | undefined {
    return this.#byUsername.get(username.trim().toLowerCase());
  }

  /** The user if the password matches, compared in constant time. */
  authenticate(username: string, password: string): IdpUser | undefined {
    const user = this.byUsername(username);
    const expected = digest(user?.password ?? '');
    const matches = timingSafeEqual(expected, digest(password));
    return user && matches ? user : undefined;
  }
}
