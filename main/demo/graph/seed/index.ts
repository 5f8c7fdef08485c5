import type { UserData } from '../model.ts';
import type { GraphUser } from '../types.ts';
import { seedContext } from './context.ts';
import { seedDriveItems } from './drive.ts';
import { seedEvents } from './events.ts';
import { seedMessages } from './messages.ts';
import { seedPeople } from './people.ts';

/** A user's deterministic mailbox, calendar, drive, people list and profile. */
export function seedUserData(user: GraphUser, now: Date, everyone: readonly GraphUser[]): UserData {
  const ctx = seedContext(user, now, everyone);
  const [givenName = null, ...rest] = user.name.trim().split(/\s+/);
  const colleague = ctx.colleagues[0];
  return {
    profile: {
      businessPhones: [`+1 425 555 ${String(ctx.random.int(100, 9999)).padStart(4, '0')}`],
      displayName: user.name,
      givenName,
      jobTitle: ctx.random.pick([
        'Program Manager',
        'Software Engineer',
        'Account Executive',
        'Analyst',
      ]),
      mail: user.username,
      mobilePhone: null,
      officeLocation: colleague?.office ?? null,
      preferredLanguage: 'en-US',
      surname: rest.length > 0 ? rest.join(' ') : null,
      userPrincipalName: user.username,
      id: user.id,
    },
    messages: seedMessages(ctx),
    events: seedEvents(ctx),
    driveItems: seedDriveItems(ctx),
    people: seedPeople(ctx),
  };
}
