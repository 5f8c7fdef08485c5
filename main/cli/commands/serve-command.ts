import { join } from 'node:path';
import type { Command } from 'commander';
import type { ValetCore } from '../../core/app/valet-core.ts';
import type { ToolCallRecord } from '../../core/mcp/tool-runner.ts';
import type { WebBridge } from '../../core/web/web-bridge.ts';
import { settingSchemas } from '../../core/config/config-schema.ts';
import type { RemoteConfig } from '../../core/remote/remote-config.ts';
import { createStderrLogger } from '../../core/util/logger.ts';
import { describeError, isValetError, ValetError } from '../../core/util/valet-error.ts';
import type { CommandRunner } from '../main.ts';
import { Output, type CliIo } from '../output.ts';
import { stopSignal } from '../stop-signal.ts';
import { announceApprovals } from '../approval-announcer.ts';
import { commandFor } from '../find-instance.ts';

/** Registers `serve`: the core headless, with the MCP endpoint; or with --remote, the team server. */
export function registerServeCommand(
  program: Command,
  run: CommandRunner,
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): void {
  program
    .command('serve')
    .description(
      'run headless: the local MCP endpoint at http://127.0.0.1:<port>/mcp; with --remote, one MCP server for a whole team',
    )
    .option('--port <n>', 'port for the endpoint (0 picks a free one); default VALET_PORT or 47652')
    .option(
      '--ui',
      'also serve the window to a browser, at a one-use link (`mcp-valet ui` gives a new one)',
    )
    .option('--json', 'newline-delimited JSON events on stdout (ready, tool_call, stopped)')
    .option('--remote', 'serve a team over the network as a confidential client (see README)')
    .option('--public-url <url>', 'remote: the https URL users reach; MCP is at <url>/mcp')
    .option('--listen <host:port>', 'remote: the address to listen on; default 127.0.0.1:8080')
    .option('--auth <mode>', 'remote: valet (default), entra, or both')
    .option('--redis <url>', 'remote: the shared store for several instances')
    .option('--instance-id <id>', 'remote: names this instance; default <hostname>-<pid>')
    .option('--tls-cert <file>', 'remote: PEM certificate of the https listener')
    .option('--tls-key <file>', 'remote: PEM private key of the https listener')
    .option('--trust-proxy <n>', 'remote: proxies in front (hop count or addresses/CIDRs)')
    .action((opts: ServeFlags) => {
      if (opts.remote) return serveRemote(opts, io);
      const remoteOnly = REMOTE_FLAGS.find(([key]) => opts[key] !== undefined);
      if (remoteOnly)
        return reportAndThrow(
          new Output(io, Boolean(opts.json)),
          new ValetError(
            'usage',
            `${remoteOnly[1]} works only with --remote: add --remote to serve a team, or leave it out`,
          ),
        );
      return run(
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
      );
    });
}

/** The flags of `serve`, local and remote. */
interface ServeFlags {
  port?: string;
  ui?: boolean;
  json?: boolean;
  remote?: boolean;
  publicUrl?: string;
  listen?: string;
  auth?: string;
  redis?: string;
  instanceId?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
}

/** The remote flags, as commander names them, with how the user typed them. */
const REMOTE_FLAGS = [
  ['publicUrl', '--public-url'],
  ['listen', '--listen'],
  ['auth', '--auth'],
  ['redis', '--redis'],
  ['instanceId', '--instance-id'],
  ['tlsCert', '--tls-cert'],
  ['tlsKey', '--tls-key'],
  ['trustProxy', '--trust-proxy'],
] as const satisfies ReadonlyArray<readonly [keyof ServeFlags, string]>;

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

/**
 * Reports a failure as the `--json` error event, then hands it to the CLI, which prints its
 * one line and exits 1.
 */
function reportAndThrow(out: Output, err: unknown): never {
  out.event({
    event: 'error',
    code: isValetError(err) ? err.code : 'unexpected',
    message: isValetError(err) ? err.message : `Unexpected error: ${describeError(err)}`,
  });
  throw err;
}

/**
 * `serve --remote`: reads the remote configuration (flags over the environment over
 * config.json's `remote` section), starts the team server and serves until SIGINT or SIGTERM.
 * It builds no local core: the remote server keeps its state in its shared store.
 */
async function serveRemote(opts: ServeFlags, io: CliIo): Promise<void> {
  const out = new Output(io, Boolean(opts.json));
  try {
    const local = opts.port !== undefined ? '--port' : opts.ui ? '--ui' : undefined;
    if (local)
      throw new ValetError(
        'usage',
        `${local} is for the local endpoint and does not go with --remote: use --listen HOST:PORT for the remote server`,
      );
    const { env } = io;
    const { loadRemoteConfig } = await import('../../core/remote/remote-config.ts');
    const { defaultDataDir } = await import('../../core/config/data-dir.ts');
    const { CONFIG_FILE_NAME } = await import('../../core/config/load-config.ts');
    const dataDir = env.VALET_DATA_DIR?.trim() || defaultDataDir(process.platform, env);
    const flags = Object.fromEntries(
      REMOTE_FLAGS.flatMap(([key]) => {
        const value = opts[key];
        // --redis names the setting redisUrl; the others map one to one onto the settings.
        return value === undefined ? [] : [[key === 'redis' ? 'redisUrl' : key, value]];
      }),
    );
    const config = await loadRemoteConfig(env, {
      flags,
      configFile: join(dataDir, CONFIG_FILE_NAME),
    });
    await serveRemoteUntilStopped(config, out, env);
  } catch (err) {
    reportAndThrow(out, err);
  }
}

/**
 * Starts the remote server, reports `ready` (after `onReady`, which the demo uses to tell who can
 * sign in), and on SIGINT, SIGTERM or SIGHUP stops it and reports `stopped`.
 */
export async function serveRemoteUntilStopped(
  config: RemoteConfig,
  out: Output,
  env: NodeJS.ProcessEnv,
  onReady?: (mcpUrls: string[]) => void,
): Promise<void> {
  const { checkTransport } = await import('../../core/remote/server/remote-listener.ts');
  // A server that cannot start says only why, not the warnings of a configuration it will not run.
  checkTransport(config);
  const stopped = stopSignal(out);
  for (const warning of config.warnings) out.say(`mcp-valet: warning: ${warning}`);
  const { startRemoteServer } = await import('../../core/remote/server/start-remote-server.ts');
  const server = await startRemoteServer(config, {
    logger: createStderrLogger(env.VALET_LOG_LEVEL),
  });
  for (const note of server.notes) out.say(`mcp-valet: ${note}`);
  const [mcpUrl = config.mcpUrl, entraUrl] = server.mcpUrls;
  onReady?.(server.mcpUrls);
  out.event({
    event: 'ready',
    url: mcpUrl,
    listen: server.listener.url,
    ...(entraUrl ? { entra_url: entraUrl } : {}),
    auth: config.auth,
    instance_id: config.instanceId,
    store: config.redisUrl === undefined ? 'memory' : 'redis',
  });
  out.say(
    `MCP Valet serves a team at ${mcpUrl}${entraUrl ? ` (Entra tokens at ${entraUrl})` : ''}, listening on ${server.listener.url} (Ctrl+C to stop)`,
  );
  out.say(`Users sign in at ${config.publicUrl}/`);
  const signal = await stopped;
  await server.close();
  out.event({ event: 'stopped', signal });
  out.say(`Stopped (${signal}).`);
}
