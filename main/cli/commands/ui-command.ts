import type { Command } from 'commander';
import { readEndpointInfo, type EndpointInfo } from '../../core/endpoint/endpoint-info.ts';
import { ValetError } from '../../core/util/valet-error.ts';
import type { CommandRunner } from '../main.ts';

/** Registers `ui`: a new one-use link to the window of the running `serve --ui`. */
export function registerUiCommand(program: Command, run: CommandRunner): void {
  program
    .command('ui')
    .description('open the window of the running `serve --ui` (or `demo --ui`) with a new link')
    .option('--no-open', 'print the link, do not open a browser')
    .option('--json', 'one JSON event on stdout (ui_link, with url and expires_at)')
    .action((opts: { open: boolean; json?: boolean }) =>
      run(opts, async (ctx, out) => {
        // The context found the running MCP Valet (the demo's data dir, when only the demo runs).
        const link = await askForLink(await findWindow(ctx.config.dataDir));
        out.event({ event: 'ui_link', url: link.url, expires_at: link.expiresAt });
        out.say(`The window: ${link.url}`);
        out.say(`(The link opens the window once, until ${link.expiresAt}.)`);
        if (opts.open)
          await ctx
            .openUi(link.url)
            .catch(() => out.say('(Open that link in a browser on this machine.)'));
      }),
    );
}

type RunningUi = EndpointInfo & { controlToken: string; ui: { origin: string } };

async function findWindow(dataDir: string): Promise<RunningUi> {
  const running = await readEndpointInfo(dataDir);
  if (running?.controlToken && running.ui) return running as RunningUi;
  throw new ValetError(
    'not_running',
    'No `mcp-valet serve --ui` is running: start it with `mcp-valet serve --ui` (or `mcp-valet demo --ui`); the desktop app has its own window',
  );
}

async function askForLink(running: RunningUi): Promise<{ url: string; expiresAt: string }> {
  let response: Response;
  try {
    response = await fetch(new URL('/control/ui-link', running.ui.origin), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${running.controlToken}`,
        'content-type': 'application/json',
      },
      body: '{}',
    });
  } catch {
    throw new ValetError(
      'not_running',
      `The window at ${running.ui.origin} does not answer: is \`mcp-valet serve --ui\` still running?`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as {
    url?: unknown;
    expiresAt?: unknown;
    error?: { message?: unknown };
  };
  if (!response.ok || typeof body.url !== 'string' || typeof body.expiresAt !== 'string')
    throw new ValetError(
      'ui_link_failed',
      `The running MCP Valet gave no link (HTTP ${response.status}${typeof body.error?.message === 'string' ? `: ${body.error.message}` : ''}); restart \`mcp-valet serve --ui\``,
    );
  return { url: body.url, expiresAt: body.expiresAt };
}
