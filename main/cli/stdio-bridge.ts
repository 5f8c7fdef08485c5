import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describeError } from '../core/util/valet-error.ts';

/** Where the bridge forwards to, and with which key. */
export interface StdioBridgeOptions {
  url: string;
  key: string;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  log: (line: string) => void;
}

/**
 * Forwards MCP messages between a stdio client (such as Claude Desktop) and the local
 * endpoint, adding the valet key to every HTTP request. stdout carries only protocol
 * messages; anything for people goes to `log` (stderr). Resolves when the client hangs up.
 */
export async function runStdioBridge(options: StdioBridgeOptions): Promise<void> {
  const upstream = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: { headers: { Authorization: `Bearer ${options.key}` } },
  });
  const downstream = new StdioServerTransport(options.stdin as never, options.stdout as never);
  const closed = new Promise<void>((resolve) => {
    downstream.onclose = () => resolve();
  });
  upstream.onmessage = (message) => {
    void downstream
      .send(message)
      .catch((err: unknown) => options.log(`could not write to the client: ${describeError(err)}`));
  };
  upstream.onerror = (err) => options.log(`endpoint stream: ${describeError(err)}`);
  downstream.onmessage = (message) => {
    upstream.send(message).catch((err: unknown) => {
      const text = explain(err, options.url);
      options.log(text);
      const id = (message as { id?: string | number }).id;
      if ('method' in message && id !== undefined) {
        const reply: JSONRPCMessage = {
          jsonrpc: '2.0',
          id,
          error: { code: -32000, message: text },
        };
        void downstream.send(reply).catch(() => undefined);
      }
    });
  };
  await upstream.start();
  await downstream.start();
  await closed;
  await upstream.terminateSession().catch(() => undefined);
  await upstream.close().catch(() => undefined);
}

function explain(err: unknown, url: string): string {
  if (err instanceof StreamableHTTPError) {
    const status = err.code;
    // The endpoint answers with a JSON-RPC error whose message names the fix.
    const inner = /"message":"((?:[^"\\]|\\.)*)"/.exec(err.message)?.[1]?.replace(/\\"/g, '"');
    if (status === 401)
      return `MCP Valet refused the valet key in VALET_KEY: ${inner ?? 'unauthorized'}`;
    return `MCP Valet answered HTTP ${status}: ${inner ?? err.message}`;
  }
  let code: string | undefined;
  for (let e: unknown = err; e && !code; e = (e as { cause?: unknown }).cause)
    code = (e as { code?: string }).code;
  if (code === 'ECONNREFUSED')
    return `MCP Valet is not running at ${url}: start the app or \`mcp-valet serve\`, or set VALET_URL`;
  return `Cannot reach MCP Valet at ${url}: ${describeError(err)}`;
}
