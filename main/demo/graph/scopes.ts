import { GraphError } from './errors.ts';

/** What an endpoint demands of the token: any one of these delegated permissions. */
export interface ScopeRule {
  /** Least privileged first; the 403 names them all. */
  anyOf: readonly string[];
  /** Graph's error code and message for a missing permission, which differ by workload. */
  code: string;
  message: string;
}

const OUTLOOK_DENIED = 'Access is denied. Check credentials and try again.';

/** The permission rules of the endpoints the stand-in serves, from Graph's reference. */
export const SCOPES = {
  me: {
    anyOf: [
      'User.Read',
      'User.ReadWrite',
      'User.ReadBasic.All',
      'User.Read.All',
      'Directory.Read.All',
    ],
    code: 'Authorization_RequestDenied',
    message: 'Insufficient privileges to complete the operation.',
  },
  readMail: {
    anyOf: ['Mail.Read', 'Mail.ReadWrite'],
    code: 'ErrorAccessDenied',
    message: OUTLOOK_DENIED,
  },
  sendMail: { anyOf: ['Mail.Send'], code: 'ErrorAccessDenied', message: OUTLOOK_DENIED },
  readCalendar: {
    anyOf: ['Calendars.Read', 'Calendars.ReadWrite'],
    code: 'ErrorAccessDenied',
    message: OUTLOOK_DENIED,
  },
  writeCalendar: {
    anyOf: ['Calendars.ReadWrite'],
    code: 'ErrorAccessDenied',
    message: OUTLOOK_DENIED,
  },
  readFiles: {
    anyOf: [
      'Files.Read',
      'Files.ReadWrite',
      'Files.Read.All',
      'Files.ReadWrite.All',
      'Sites.Read.All',
    ],
    code: 'accessDenied',
    message: 'Access denied',
  },
  readPeople: {
    anyOf: ['People.Read', 'People.Read.All'],
    code: 'ErrorAccessDenied',
    message: OUTLOOK_DENIED,
  },
} as const satisfies Record<string, ScopeRule>;

/** Throws Graph's 403 unless the token has one of the rule's permissions (names are case-insensitive, as in Entra). */
export function requireScope(granted: readonly string[], rule: ScopeRule): void {
  const have = new Set(granted.map((scope) => scope.toLowerCase()));
  if (rule.anyOf.some((scope) => have.has(scope.toLowerCase()))) return;
  throw new GraphError(
    403,
    rule.code,
    `${rule.message} Required permission (any of): ${rule.anyOf.join(', ')}.`,
  );
}
