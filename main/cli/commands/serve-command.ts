import type { Command } from 'commander';
import type { ValetCore } from '../../core/app/valet-core.ts';
import { settingSchemas } from '../../core/config/config-schema.ts';
import { ValetError } from '../../core/util/valet-error.ts';
import type { CommandRunner } from '../main.ts';
import type { Output } from '../output.ts';

/** Registers `serve`: the core headless, with the MCP endpoint. */
export function registerServeCommand(program: Command, run: CommandRunner): void {
  program
    .command('serve')
    .description('run headless: the local MCP endpoint at http://127.0.0.1:<port>/mcp')
    .option('--port <n>', 'port for the endpoint (0 picks a free one); default VALET_PORT or 47652')
    .option('--json', 'newline-delimited JSON events on stdout (ready, tool_call, stopped)')
    .action((opts: { port?: string; json?: boolean }) =>
      run(opts, async (ctx, out) => {
        const port = opts.port === undefined ? undefined : parsePort(opts.port);
        await serveUntilStopped(ctx.core, out, port);
      }),
    );
}

function parsePort(raw: string): number {
  const parsed = settingSchemas.port.safeParse(raw);
  if (!parsed.success)
    throw new ValetError(
      'usage',
      `--port ${raw} is not a port: use a whole number from 0 to 65535`,
    );
  return parsed.data;
}

/**
 * Starts the endpoint, reports `ready`, follows tool calls on the output, and on SIGINT or
 * SIGTERM closes every session before it returns.
 */
export async function serveUntilStopped(
  core: ValetCore,
  out: Output,
  port?: number,
  onReady?: (url: string) => Promise<void> | void,
): Promise<void> {
  // The live log: JSON events for programs under --json, a line per call for people otherwise.
  core.on('tool-call', (c) => {
    if (out.json) {
      out.event({
        event: 'tool_call',
        tool: c.tool,
        key: c.keyName,
        account: c.account ?? null,
        outcome: c.outcome,
        duration_ms: c.durationMs,
        graph_request_ids: c.graphRequestIds,
        ...(c.errorCode ? { error: c.errorCode } : {}),
      });
    } else {
      out.say(
        `${new Date().toISOString()}  ${c.keyName.padEnd(14)} ${c.tool.padEnd(17)} ${c.outcome.padEnd(6)} ${String(c.durationMs).padStart(7)} ms${c.errorCode ? `  ${c.errorCode}` : ''}`,
      );
    }
  });
  const endpoint = await core.startEndpoint(port === undefined ? {} : { port });
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await onReady?.(endpoint.url);
  out.event({ event: 'ready', url: endpoint.url });
  out.say(`MCP Valet is serving at ${endpoint.url} (Ctrl+C to stop)`);
  const active = await core.auth.resolveAccount().catch(() => undefined);
  if (!active)
    out.say(
      'Nobody is signed in yet: run `mcp-valet login` in another terminal before calling tools.',
    );
  const signal = await stopped;
  await core.close();
  out.event({ event: 'stopped', signal });
  out.say(`Stopped (${signal}); all sessions closed.`);
}
