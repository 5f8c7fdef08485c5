import { z } from 'zod';
import {
  CALL_NAMES,
  TOOL_NAMES,
  type AppErrorDto,
  type CallName,
  type CallRequest,
} from '../../../preload/contract.ts';
import { approvalDecisionSchema } from '../approvals/approval-decision.ts';
import { settingSchemas } from '../config/config-schema.ts';

const toolName = z.enum(TOOL_NAMES);
const accountRef = z.string().min(1).max(320);

/** A valet key's name: what the window, the web bridge and `keys create` accept. */
export const keyNameSchema = z
  .string()
  .trim()
  .min(1, 'is empty: give the key a name, for example the client it is for')
  .max(64, 'is longer than 64 characters');

/** The tools a new valet key may call: at least one, each a known tool. */
export const keyToolsSchema = z
  .array(toolName)
  .min(1, 'names no tool: pick at least one')
  .max(TOOL_NAMES.length);

/** What a new valet key is made from (the account as the user named it). */
export const newKeySchema = z.object({
  name: keyNameSchema,
  tools: keyToolsSchema,
  readOnly: z.boolean(),
  account: accountRef.optional(),
});

const empty = z.object({});

/**
 * Every call's request schema, validated on the receiving side (IPC and HTTP alike). The
 * compiler holds each one to the contract's request type, and each rule that is checked
 * elsewhere too (a decision, a key, the app registration) comes from its one schema.
 */
export const CALL_SCHEMAS = {
  getStatus: empty,
  signIn: z.object({
    method: z.enum(['auto', 'browser', 'device-code']),
    scopes: z.array(z.string().min(1).max(100)).max(20).optional(),
  }),
  cancelSignIn: z.object({ attemptId: z.string().min(1).max(64) }),
  signOut: z.object({ account: accountRef.optional() }),
  listAccounts: empty,
  useAccount: z.object({ account: accountRef }),
  listKeys: empty,
  createKey: newKeySchema,
  revokeKey: z.object({ id: z.string().min(1).max(64) }),
  listApprovals: empty,
  decideApproval: z.object({ id: z.string().min(1).max(64), decision: approvalDecisionSchema }),
  listActivity: z.object({
    before: z.number().int().positive().optional(),
    limit: z.number().int().min(1).max(200).optional(),
    keyName: z.string().max(64).optional(),
    tool: toolName.optional(),
    outcome: z.enum(['allowed', 'denied', 'failed']).optional(),
  }),
  getDiagnostics: z.object({ lines: z.number().int().min(1).max(200).optional() }),
  openDiagnostics: empty,
  getActivityChart: z.object({
    minutes: z.number().int().min(5).max(10_080, 'is more than a week (10080 minutes)').optional(),
    buckets: z.number().int().min(6).max(120).optional(),
  }),
  getPolicy: empty,
  setToolEnabled: z.object({ tool: toolName, enabled: z.boolean() }),
  getSettings: empty,
  saveSettings: z.object({
    clientId: settingSchemas.clientId,
    tenantId: settingSchemas.tenantId,
  }),
} satisfies { [N in CallName]: z.ZodType<CallRequest<N>> };

// The other way round: a field the contract names but a schema lacks would be stripped
// without a word, so each schema must know exactly the contract's fields.
type Missing<A, B> = Exclude<keyof A, keyof B>;
type SchemaKnowsEveryField = {
  [N in CallName]: [
    Missing<CallRequest<N>, z.input<(typeof CALL_SCHEMAS)[N]>>,
    Missing<z.input<(typeof CALL_SCHEMAS)[N]>, CallRequest<N>>,
  ] extends [never, never]
    ? true
    : N;
}[CallName];
const _schemasMatchTheContract: true = true as SchemaKnowsEveryField;

/** A request checked against its call's schema: the parsed request, or the error to answer. */
export type ParsedCall<N extends CallName> =
  { ok: true; request: CallRequest<N> } | { ok: false; error: AppErrorDto };

/** Whether `name` is one of the contract's calls. */
export function isCallName(name: string): name is CallName {
  return (CALL_NAMES as string[]).includes(name);
}

/**
 * Validates a call's request. A refusal names the first problem in its message and every
 * field at fault in `fields`, so that a form can mark them all.
 */
export function parseCall<N extends CallName>(name: N, raw: unknown): ParsedCall<N> {
  const parsed = (CALL_SCHEMAS[name] as z.ZodType<CallRequest<N>>).safeParse(raw ?? {});
  if (parsed.success) return { ok: true, request: parsed.data };
  const issue = parsed.error.issues[0];
  const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')).filter(Boolean))];
  return {
    ok: false,
    error: {
      code: 'invalid_request',
      message: `${name}: ${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'is not valid'}`,
      ...(fields.length ? { fields } : {}),
    },
  };
}
