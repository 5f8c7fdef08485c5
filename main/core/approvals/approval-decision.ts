import { z } from 'zod';
import type { ApprovalDecisionDto } from '../../../preload/contract.ts';

/** The longest an approve-for-a-while decision may last: one day. */
export const MAX_WINDOW_MINUTES = 24 * 60;

/**
 * How long an approve-for-a-while decision lasts: the one rule for the window, the control
 * API (and so `mcp-valet approvals approve --minutes`) and the approval service.
 */
export const windowMinutesSchema = z
  .number({ error: `is not a whole number of minutes from 1 to ${MAX_WINDOW_MINUTES}` })
  .int(`is not a whole number of minutes from 1 to ${MAX_WINDOW_MINUTES}`)
  .min(1, `is not a whole number of minutes from 1 to ${MAX_WINDOW_MINUTES}`)
  .max(MAX_WINDOW_MINUTES, `is not a whole number of minutes from 1 to ${MAX_WINDOW_MINUTES}`);

/** The user's answer to an approval, wherever it comes from. */
export const approvalDecisionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('once') }),
  z.object({ kind: z.literal('window'), minutes: windowMinutesSchema }),
  z.object({ kind: z.literal('deny') }),
]) satisfies z.ZodType<ApprovalDecisionDto>;
