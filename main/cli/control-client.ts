import { readEndpointInfo } from '../core/endpoint/endpoint-info.ts';
import { ValetError } from '../core/util/valet-error.ts';

/** Calls the running MCP Valet's control API with the control token from endpoint.json. */
export async function callControl<T>(
  dataDir: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const running = await readEndpointInfo(dataDir);
  if (!running?.controlToken) {
    throw new ValetError(
      'not_running',
      'No MCP Valet is running: approvals live in the running server; start the app or `mcp-valet serve`',
    );
  }
  let response: Response;
  try {
    response = await fetch(new URL(path, running.url), {
      method,
      headers: {
        authorization: `Bearer ${running.controlToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ValetError(
      'not_running',
      `MCP Valet at ${running.url} does not answer: is it still running?`,
    );
  }
  const json = (await response.json().catch(() => ({}))) as T & { error?: string; code?: string };
  if (!response.ok)
    throw new ValetError(
      json.code ?? 'control_failed',
      json.error ?? `MCP Valet answered HTTP ${response.status}`,
    );
  return json;
}
