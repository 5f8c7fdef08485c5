import { z } from 'zod';
import { ValetError } from '../../util/valet-error.ts';

/** A refusal of a tool's arguments that a model can correct; never echoes the values. */
export function invalidArguments(tool: string, problem: string): ValetError {
  return new ValetError('invalid_arguments', `Invalid arguments for ${tool}: ${problem}`);
}

/** One line naming each bad argument and what is wrong with it. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || 'arguments'}: ${issue.message}`)
    .join('; ');
}

/** An ISO 8601 date-time with `Z` or an offset, so that it names one instant. */
export function instantInput(what: string): z.ZodISODateTime {
  return z.iso
    .datetime({
      offset: true,
      error: `${what} must be an ISO 8601 date-time with Z or an offset, e.g. 2025-03-14T09:00:00Z`,
    })
    .describe(`${what}: ISO 8601 date-time with Z or an offset, e.g. 2025-03-14T09:00:00Z`);
}

/** An email address, bounded, validated. */
export const emailInput = z.email().max(254);
