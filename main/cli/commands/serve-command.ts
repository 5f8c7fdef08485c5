import type { Command } from 'commander';
import type { ValetCore } from '../../core/app/valet-core.ts';
import type { ToolCallRecord } from '../../core/mcp/tool-runner.ts';
import type { WebBridge } from '../../core/web/web-bridge.ts';
import { settingSchemas } from '../../core/config/config-schema.ts';
import { ValetError } from '../../core/util/valet-error.ts';
import type { CommandRunner } from '../main.ts';
import type { Output } from '../output.ts';
import { stopSignal } from '../stop-signal.ts';
import { announceApprovals } from '../approval-announcer.ts';
import { commandFor } from '../find-instance.ts';

/** Registers `serve`: the core headless, with the MCP endpoint. */
export function registerServeCommand(program: Command, run: CommandRunner): void {
  program
    .command('serve')
    .description('run headless: the local MCP endpoint at http://127.0.0.1:<port>/mcp')
    .option('--port <n>', 'port for the endpoint (0 picks a free one); default VALET_PORT or 47652')
    .option(
      '--ui',
      'also serve the window to a browser, at a one-use link (`mcp-valet ui` gives a new one)',
    )
    .option('--json', 'newline-delimited JSON events on stdout (ready, tool_call, stopped)')
    .action((opts: { port?: string; ui?: boolean; json?: boolean }) =>
      run(
        opts,
        async (ctx, out) => {
          const port = opts.port === undefined ? undefined : parsePort(opts.port);
          await serveUntilStopped(ctx.core, out, {
            ...(port !== undefined ? { port } : {}),
            ui: Boolean(opts.ui),
            openBrowser: ctx.openUi,
            env: ctx.env,
          });
        },
        // serve starts an MCP Valet of its own: on the data dir named, or the default one.
        { toServe: true },
      ),
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

/** How to serve. */
export interface ServeOptions {
  port?: number;
  /** Also serve the window to a browser (the web bridge). */
  ui?: boolean;
  /** The demo tenant is running. */
  demo?: boolean;
  /** Opens the window's link in the user's browser, when there is one to show. */
  openBrowser?: ((url: string) => Promise<void>) | undefined;
  /** The environment the command was started with: how the user reaches it from another shell. */
  env: NodeJS.ProcessEnv;
  /** Runs once the endpoint listens, before `ready` is reported. */
  onReady?: (url: string) => Promise<void> | void;
}

/**
 * Starts the endpoint, reports `ready`, follows tool calls on the output, and on SIGINT,
 * SIGTERM or SIGHUP closes every session before it returns.
 */
export async function serveUntilStopped(
  core: ValetCore,
  out: Output,
  options: ServeOptions,
): Promise<void> {
  const { port, onReady } = options;
  // From here on a Ctrl+C stops the server cleanly, however many copies of it arrive.
  const stopped = stopSignal(out);
  // The live log: JSON events for programs under --json, a line per call for people otherwise.
  // Written in batches: a write to a pipe per call would cost more than the call.
  core.on('tool-call', (c) => {
    if (out.json) out.liveEvent(toolCallEvent(c));
    else
      out.liveSay(
        `${new Date().toISOString()}  ${c.keyName.padEnd(14)} ${c.tool.padEnd(17)} ${c.outcome.padEnd(6)} ${String(c.durationMs).padStart(7)} ms${c.errorCode ? `  ${c.errorCode}` : ''}`,
      );
  });
  let ui: WebBridge | undefined;
  announceApprovals(core, out, {
    env: options.env,
    windowLink: () => ui?.newLink().url,
  });
  const endpoint = await core.startEndpoint(port === undefined ? {} : { port });
  await onReady?.(endpoint.url);
  if (options.ui) ui = await startUi(core, options.demo ?? false);
  out.event({ event: 'ready', url: endpoint.url, ...(ui ? { ui_url: ui.url } : {}) });
  out.say(`MCP Valet is serving at ${endpoint.url} (Ctrl+C to stop)`);
  if (ui) {
    out.say(`The window: ${ui.url}`);
    out.say(
      `(The link opens the window once, within 10 minutes; \`${await commandFor('ui', core.config.dataDir, options.env)}\` gives a new one.)`,
    );
    // The link carries a one-use secret: it goes to the user's own browser, nowhere else.
    await options
      .openBrowser?.(ui.url)
      .catch(() => out.say('(Open that link in a browser on this machine.)'));
  }
  const active = await core.auth.resolveAccount().catch(() => undefined);
  if (!active)
    out.say(
      `Nobody is signed in yet: run \`${await commandFor('login', core.config.dataDir, options.env)}\` in another terminal before calling tools.`,
    );
  const signal = await stopped;
  await ui?.close();
  await core.close();
  out.event({ event: 'stopped', signal });
  out.say(`Stopped (${signal}); all sessions closed.`);
}

/** The `tool_call` event of a call, as its JSON line (built directly: it is written for every call). */
export function toolCallEvent(c: ToolCallRecord): string {
  const error = c.errorCode ? `,"error":${JSON.stringify(c.errorCode)}` : '';
  return `{"event":"tool_call","tool":${JSON.stringify(c.tool)},"key":${JSON.stringify(c.keyName)},"account":${JSON.stringify(c.account ?? null)},"outcome":${JSON.stringify(c.outcome)},"duration_ms":${JSON.stringify(c.durationMs)},"graph_request_ids":${JSON.stringify(c.graphRequestIds)}${error}}`;
}

/**
 * Starts the web bridge with this run's control token (from endpoint.json, written when the
 * endpoint started), so that `mcp-valet ui` can ask it for a new link, and records where it is.
 */
async function startUi(core: ValetCore, demo: boolean): Promise<WebBridge> {
  const { createAppApi } = await import('../../core/app/app-api.ts');
  const { startWebBridge } = await import('../../core/web/web-bridge.ts');
  const { readEndpointInfo, recordWebUi } = await import('../../core/endpoint/endpoint-info.ts');
  const { dataDir } = core.config;
  const running = await readEndpointInfo(dataDir);
  const controlToken = running?.pid === process.pid ? running.controlToken : undefined;
  const ui = await startWebBridge(createAppApi(core, { demo, shell: 'browser' }), {
    ...(controlToken ? { controlToken } : {}),
  });
  await recordWebUi(dataDir, ui.origin);
  return ui;
}
