import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describeError, isValetError } from '../core/util/valet-error.ts';
import { refused } from './control-client.ts';

/** The session is gone (unknown to the endpoint) or the endpoint cannot be reached. */
export function lostSession(err: unknown): boolean {
  if (err instanceof StreamableHTTPError) return err.code === 404;
  if (isValetError(err)) return err.code === 'session_lost';
  return err instanceof TypeError || (err as { name?: unknown }).name === 'AbortError';
}

/** The request surely did not reach a session: refused at connect, or session unknown. */
export function notDelivered(err: unknown): boolean {
  if (err instanceof StreamableHTTPError) return err.code === 404;
  if (isValetError(err)) return err.code === 'session_lost';
  return refused(err);
}

/** Failures an endpoint in the middle of a restart gives; a refused key is not one of them. */
export function worthRetrying(err: unknown): boolean {
  if (isValetError(err))
    return ['not_running', 'endpoint_unproven', 'session_lost'].includes(err.code);
  return lostSession(err);
}

/** What the client (and stderr) is told about a failure: its cause and the fix. */
export function explain(err: unknown): string {
  if (isValetError(err)) return err.message;
  if (err instanceof StreamableHTTPError) {
    const status = err.code;
    // The endpoint answers with a JSON-RPC error whose message names the fix.
    const inner = /"message":"((?:[^"\\]|\\.)*)"/.exec(err.message)?.[1]?.replace(/\\"/g, '"');
    if (status === 401)
      return `MCP Valet refused the valet key in VALET_KEY: ${inner ?? 'unauthorized'}`;
    return `MCP Valet answered HTTP ${status}: ${inner ?? err.message}`;
  }
  if (refused(err)) return 'MCP Valet is not running: start the app or `mcp-valet serve`';
  return `Cannot reach MCP Valet: ${describeError(err)}`;
}
