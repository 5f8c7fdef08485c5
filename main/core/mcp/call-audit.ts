import { describeError, isValetError } from '../util/valet-error.ts';
import type { Caller } from './call-types.ts';

/**
 * Why a record could not be written, and what to do. The audit log's own errors already name
 * the folder, the cause and the fix; anything else gets the usual causes' fix.
 */
export function auditFailure(err: unknown): string {
  const why = isValetError(err, 'audit_failed')
    ? err.message
    : `The audit record could not be written (${describeError(err)}): make room on the disk of the MCP Valet data folder or make it writable`;
  return `${why}. Then check the log with \`mcp-valet audit verify\``;
}

/**
 * The client as the audit log names it, e.g. `Claude 1.0.0`; a remote client by its name alone
 * (its client ID has a field of its own in the record).
 */
export function clientOf(caller: Caller): string | undefined {
  if (!caller.client) return undefined;
  const { name, version } = caller.client;
  return version ? `${name} ${version}` : name;
}
