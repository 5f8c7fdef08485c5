import type { z } from 'zod';
import { GraphError } from './errors.ts';

/** Graph's answer to a JSON property its type does not define (catches typos such as `to` for `toRecipients`). */
export function unknownProperty(name: string, typeName: string): GraphError {
  return new GraphError(
    400,
    'RequestBodyRead',
    `The property '${name}' does not exist on type '${typeName}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
  );
}

/** The first schema problem as Graph would word it; `typeOf` names the OData type at a path. */
export function bodyError(
  error: z.ZodError,
  typeOf: (path: readonly PropertyKey[]) => string,
): GraphError {
  const issue = error.issues[0];
  if (!issue) return new GraphError(400, 'BadRequest', 'Invalid request body.');
  if (issue.code === 'unrecognized_keys')
    return unknownProperty(issue.keys[0] ?? '', typeOf(issue.path));
  const where = issue.path.map(String).join('.') || 'body';
  return new GraphError(400, 'BadRequest', `Invalid value for '${where}': ${issue.message}.`);
}

/** Whether a string looks like an SMTP address Exchange could resolve. */
export function isMailAddress(address: string): boolean {
  return /^[^\s@<>(),;:"]+@[^\s@<>(),;:".]+(\.[^\s@<>(),;:".]+)*$/.test(address.trim());
}
