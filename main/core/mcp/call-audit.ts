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

/** The client as the audit log names it, e.g. `Claude 1.0.0`. */
export function clientOf(caller: Caller): string | undefined {
  return caller.client ? `${caller.client.name} ${caller.client.version}` : undefined;
}
