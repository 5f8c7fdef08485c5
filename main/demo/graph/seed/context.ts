import type { EmailAddress } from '../model.ts';
import type { GraphUser } from '../types.ts';
import { COLLEAGUES, PROJECTS } from './pools.ts';
import type { Colleague } from './pools.ts';
import { SeededRandom } from './random.ts';

/** A colleague with the user's mail domain. */
export interface SeededColleague extends Colleague {
  email: EmailAddress;
}

/** What every seeder of one user shares: the random source, the clock and the user's world. */
export interface SeedContext {
  user: GraphUser;
  random: SeededRandom;
  /** The seeding clock, in milliseconds. */
  now: number;
  /** The user's mail domain, e.g. contoso.test. */
  domain: string;
  /** The organisation's name derived from the domain, e.g. Contoso. */
  company: string;
  self: EmailAddress;
  /** The user's closest colleagues, most relevant first. */
  colleagues: SeededColleague[];
  projects: string[];
  /** The current quarter, e.g. Q3. */
  quarter: string;
}

/** A name as an address's local part: lower case, accents dropped (Tomás → tomas). */
export function localPart(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[^A-Za-z0-9.]/g, '')
    .toLowerCase();
}

/**
 * The seeding context of a user: different users get different colleagues and projects.
 * A seeded colleague who shares a stand-in user's name gets that user's address, so mail
 * sent to them reaches the user's stand-in mailbox; one who shares the user's own name is left out.
 */
export function seedContext(
  user: GraphUser,
  now: Date,
  everyone: readonly GraphUser[],
): SeedContext {
  const random = new SeededRandom(`graph-stand-in:${user.id.toLowerCase()}`);
  const domain = user.username.split('@')[1]?.toLowerCase() || 'contoso.test';
  const label = domain.split('.')[0] ?? domain;
  const company = label.charAt(0).toUpperCase() + label.slice(1);
  const byName = new Map(
    everyone.map((other) => [other.name.trim().toLowerCase(), other.username]),
  );
  const colleagues = random
    .shuffle(COLLEAGUES)
    .map((colleague) => {
      const name = `${colleague.given} ${colleague.surname}`;
      const address =
        byName.get(name.toLowerCase()) ??
        `${localPart(colleague.given + colleague.surname.charAt(0))}@${domain}`;
      return { ...colleague, email: { name, address } };
    })
    .filter((colleague) => colleague.email.name.toLowerCase() !== user.name.trim().toLowerCase())
    .slice(0, 14);
  return {
    user,
    random,
    now: now.getTime(),
    domain,
    company,
    self: { name: user.name, address: user.username },
    colleagues,
    projects: random.shuffle(PROJECTS).slice(0, 4),
    quarter: `Q${Math.floor(now.getUTCMonth() / 3) + 1}`,
  };
}

/** Fills `{p}` (a project) and `{q}` (the quarter) in a template. */
export function fill(template: string, project: string, quarter: string): string {
  return template.replaceAll('{p}', project).replaceAll('{q}', quarter);
}
