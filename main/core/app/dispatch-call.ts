import type { AppApi, CallOutcome } from '../../../preload/contract.ts';
import { isValetError } from '../util/valet-error.ts';
import { isCallName, parseCall } from './call-schemas.ts';

/**
 * Runs one AppApi call that arrived from outside the process (Electron IPC or the web bridge):
 * checks the name, validates the request against the call's schema, and turns every
 * failure into data. Only a ValetError's message, written for people and free of secrets,
 * ever leaves; anything else becomes a generic message.
 */
export async function dispatchCall(api: AppApi, name: string, raw: unknown): Promise<CallOutcome> {
  if (!isCallName(name))
    return {
      ok: false,
      error: { code: 'unknown_call', message: `There is no call named ${name}` },
    };
  const parsed = parseCall(name, raw);
  if (!parsed.ok) return parsed;
  try {
    const call = api[name] as (request: unknown) => Promise<unknown>;
    const result = await call(parsed.request);
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
