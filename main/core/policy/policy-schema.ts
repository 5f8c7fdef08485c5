import { z } from 'zod';
import { TOOL_NAMES } from '../mcp/tool-definition.ts';

/** What the policy says about one tool. */
export const toolPolicySchema = z.strictObject({
  /** false turns the tool off for every key. */
  enabled: z.boolean().optional(),
  /** An Entra app role (the `roles` claim of the user's ID token) the caller's account must have. */
  requireRole: z.string().trim().min(1).max(120).optional(),
  /** true makes a read tool wait for approval too; tools that change data always do. */
  approval: z.boolean().optional(),
});

/** Limits per valet key and for the whole endpoint. */
export const rateLimitSchema = z.strictObject({
  /** Sustained requests per minute per key (token bucket refill). */
  requestsPerMinute: z.number().int().min(1).max(100_000).default(300),
  /** Requests a key may make at once above the sustained rate. */
  burst: z.number().int().min(1).max(10_000).default(60),
  /** Requests in flight per key. */
  concurrentPerKey: z.number().int().min(1).max(1_000).default(8),
  /** Requests in flight for the whole endpoint. */
  concurrentTotal: z.number().int().min(1).max(10_000).default(64),
});

/** The `policy` section of config.json. Everything has a default, so `{}` is a full policy. */
export const policySchema = z.strictObject({
  tools: z
    .partialRecord(
      z.enum(TOOL_NAMES, { error: `is not a tool (the tools are ${TOOL_NAMES.join(', ')})` }),
      toolPolicySchema,
    )
    .default({}),
  /** How long a call waits for the user's decision before it counts as denied. */
  approvalTimeoutSeconds: z.number().int().min(5).max(3600).default(120),
  rateLimits: rateLimitSchema.default(rateLimitSchema.parse({})),
});

/** The validated policy. */
export type Policy = z.infer<typeof policySchema>;
/** The validated rate limits. */
export type RateLimits = z.infer<typeof rateLimitSchema>;

/** The policy when the config file has none. */
export const DEFAULT_POLICY: Policy = policySchema.parse({});

/** One line naming the first problem in a policy, e.g. `policy.tools.send_mail.requireRole: …`. */
export function describePolicyError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'policy is not valid';
  const path = ['policy', ...issue.path.map(String)].join('.');
  const detail =
    issue.code !== 'unrecognized_keys'
      ? issue.message
      : issue.path.at(-1) === 'tools'
        ? `has unknown tool ${issue.keys.join(', ')} (the tools are ${TOOL_NAMES.join(', ')})`
        : `has unknown setting ${issue.keys.join(', ')}`;
  return `${path} ${detail}`;
}
