import type { Command } from 'commander';
import { readEndpointInfo } from '../../core/endpoint/endpoint-info.ts';
import type { ValetKey } from '../../core/keys/key-store.ts';
import { READ_TOOLS, TOOL_NAMES, type ToolName } from '../../core/mcp/tool-definition.ts';
import { ValetError } from '../../core/util/valet-error.ts';
import type { CliContext } from '../context.ts';
import { announceKeysChanged, isLoopbackUrl } from '../control-client.ts';
import type { CommandRunner } from '../main.ts';
import { Output, type CliIo } from '../output.ts';
import { clientConfigs } from '../../core/app/client-configs.ts';

/** Registers `keys create`, `keys list` and `keys revoke`. */
export function registerKeyCommands(
  program: Command,
  run: CommandRunner,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  const keys = program
    .command('keys')
    .description('valet keys: what each MCP client may do, revocable')
    .enablePositionalOptions();
  keys
    .command('create')
    .description('create a valet key; the secret is printed once')
    .requiredOption('--name <name>', 'a name for the client, e.g. vscode or cursor')
    .option(
      '--tools <list>',
      `comma-separated tools (default: the read tools: ${READ_TOOLS.join(', ')})`,
    )
    .option('--read-only', 'never allow tools that change data (send_mail, create_event)')
    .option(
      '--account <account>',
      'the account the key acts as (username or homeAccountId); default: the active one',
    )
    .option('--json', 'a JSON event on stdout')
    .action(
      (opts: {
        name: string;
        tools?: string;
        readOnly?: boolean;
        account?: string;
        json?: boolean;
      }) => run(opts, (ctx, out) => createKey(ctx, out, opts)),
    );
  keys
    .command('list')
    .description('list valet keys (never their secrets)')
    .option('--remote', "the team server's keys, from the server running on this data dir")
    .option('--user <oid>', 'with --remote: only the keys of the user with this object ID')
    .option('--json', 'a JSON event on stdout')
    .action(async (opts: { json?: boolean; remote?: boolean; user?: string }) => {
      if (opts.remote) {
        // Loaded here: the other commands need none of the team server's modules.
        const { listRemoteKeysCommand } = await import('./remote-key-commands.ts');
        setExit(await listRemoteKeysCommand(io, opts));
        return;
      }
      if (opts.user !== undefined) {
        setExit(new Output(io, Boolean(opts.json)).fail(USER_NEEDS_REMOTE));
        return;
      }
      await run(opts, async (ctx, out) => {
        const all = await ctx.core.keys.list();
        out.event({ event: 'keys', keys: all });
        if (all.length === 0)
          out.say('No valet keys yet. Create one with `mcp-valet keys create --name <client>`.');
        for (const k of all) out.say(describeKey(k));
      });
    });
  keys
    .command('revoke <id>')
    .description('revoke a valet key by id (or name); it stops working at once')
    .option('--remote', "revoke a team server's key by id, on every instance sharing its store")
    .option('--json', 'a JSON event on stdout')
    .action(async (ref: string, opts: { json?: boolean; remote?: boolean }) => {
      if (opts.remote) {
        const { revokeRemoteKeyCommand } = await import('./remote-key-commands.ts');
        setExit(await revokeRemoteKeyCommand(io, ref, opts));
        return;
      }
      await run(opts, async (ctx, out) => {
        const key = await ctx.core.revokeKey(ref);
        // A server running beside this command refuses the key from its next request on.
        await announceKeysChanged(ctx.config.dataDir, key.id);
        out.event({ event: 'key_revoked', key });
        out.say(
          `Revoked valet key '${key.name}' (${key.id}). Clients using it are refused from now on.`,
        );
      });
    });
}

const USER_NEEDS_REMOTE = new ValetError(
  'usage',
  "--user works only with --remote: local keys belong to this machine's user; add --remote to list a team server's keys",
);

/** Parses `--tools`; unknown names are refused with the list of known ones. */
export function parseTools(list: string | undefined): ToolName[] {
  if (list === undefined) return [...READ_TOOLS];
  const names = list
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown = names.filter((t) => !(TOOL_NAMES as readonly string[]).includes(t));
  if (unknown.length > 0 || names.length === 0) {
    throw new ValetError(
      'unknown_tool',
      `${unknown.length ? `Unknown tool ${unknown.join(', ')}` : 'No tools given'}: the tools are ${TOOL_NAMES.join(', ')}`,
    );
  }
  return names as ToolName[];
}

async function createKey(
  ctx: CliContext,
  out: Output,
  opts: { name: string; tools?: string; readOnly?: boolean; account?: string },
) {
  const tools = parseTools(opts.tools);
  const account = opts.account
    ? await ctx.auth.resolveAccount(opts.account)
    : await ctx.auth.resolveAccount().catch(() => undefined);
  if (opts.account && !account) {
    throw new ValetError(
      'no_account',
      `No cached account matches ${opts.account}: run \`mcp-valet accounts\` to list them, or \`mcp-valet login\` to add one`,
    );
  }
  const { key, secret } = await ctx.core.createKey({
    name: opts.name,
    tools,
    readOnly: Boolean(opts.readOnly),
    account: account ? { homeAccountId: account.homeAccountId, username: account.username } : null,
  });
  const url = await endpointUrl(ctx);
  out.event({
    event: 'key_created',
    key,
    secret,
    url,
    configs: clientConfigs(url, secret, ctx.core.config.dataDir),
  });
  out.say(
    `Created valet key '${key.name}' (${key.id}) acting as ${key.account?.username ?? 'the active account'}.`,
  );
  out.say(`Tools: ${key.tools.join(', ')}${key.readOnly ? ' (read-only)' : ''}`);
  out.say(`Endpoint: ${url}`);
  if (key.readOnly && key.tools.some((t) => t === 'send_mail' || t === 'create_event')) {
    out.say('Note: the key is read-only, so send_mail and create_event will be refused.');
  }
  out.say('');
  out.say('The secret is shown only now. Put it in your client configuration:');
  out.say(`  ${secret}`);
  out.say('');
  out.say(
    'Where it goes for VS Code (.vscode/mcp.json, which asks for the key), Cursor (~/.cursor/mcp.json) and Claude Desktop: the README, "Connect a client". With --json, keys create prints those configurations filled in.',
  );
}

/**
 * Where clients should connect: the running endpoint when one runs (it may have been started
 * on another port than this command's configuration names), else the configured port.
 */
async function endpointUrl(ctx: CliContext): Promise<string> {
  const running = await readEndpointInfo(ctx.config.dataDir);
  // Only a local endpoint's URL is printed next to a secret.
  if (running && URL.canParse(running.url) && isLoopbackUrl(new URL(running.url)))
    return running.url;
  return `http://127.0.0.1:${ctx.config.port === 0 ? '<port>' : ctx.config.port}/mcp`;
}

function describeKey(k: ValetKey): string {
  const state = k.revokedAt ? `revoked ${k.revokedAt}` : `last used ${k.lastUsedAt ?? 'never'}`;
  return `${k.id}  ${k.name.padEnd(16)} ${(k.account?.username ?? 'active account').padEnd(24)} ${k.tools.join(',')}${k.readOnly ? ' (read-only)' : ''}  [${state}]`;
}
