import {
  CALL_NAMES,
  CALLS,
  type AppApi,
  type CallName,
  type CallOutcome,
} from '../../../preload/contract.ts';
import { isValetError } from '../util/valet-error.ts';

/**
 * Runs one AppApi call that arrived from outside the process (Electron IPC or the web bridge):
 * checks the name, validates the request against the contract's schema, and turns every
 * failure into data. Only a ValetError's message, written for people and free of secrets,
 * ever leaves; anything else becomes a generic message.
 */
export async function dispatchCall(api: AppApi, name: string, raw: unknown): Promise<CallOutcome> {
  if (!(CALL_NAMES as string[]).includes(name))
    return {
      ok: false,
      error: { code: 'unknown_call', message: `There is no call named ${name}` },
    };
  const request = CALLS[name as CallName].request.safeParse(raw ?? {});
  if (!request.success) {
    const issue = request.error.issues[0];
    return {
      ok: false,
      error: {
        code: 'invalid_request',
        message: `${name}: ${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'is not valid'}`,
      },
    };
  }
  try {
    const result = await (api[name as CallName] as (r: unknown) => Promise<unknown>)(request.data);
    return { ok: true, result: result ?? null };
  } catch (err) {
    return {
      ok: false,
      error: isValetError(err)
        ? { code: err.code, message: err.message }
        : { code: 'unexpected', message: 'Something went wrong in MCP Valet: see its log' },
    };
  }
}
