import type { Command } from 'commander';
import type { AccountSummary, TokenFreshness } from '../../core/auth/auth-types.ts';
import { readEndpointInfo } from '../../core/endpoint/endpoint-info.ts';
import { signInSystem } from '../../core/app/status-model.ts';
import type { CliContext } from '../context.ts';
import type { Output } from '../output.ts';
import type { CommandRunner } from '../main.ts';

/** Registers `login`, `status`, `accounts`, `accounts use` and `logout`. */
export function registerAuthCommands(program: Command, run: CommandRunner): void {
  program
    .command('login')
    .description('sign in: OS broker, then the system browser, then device code')
    .option('--device-code', 'sign in with a device code (for machines without a browser)')
    .option('--no-open', 'print the sign-in URL instead of opening a browser')
    .option(
      '--scopes <list>',
      'comma-separated Graph scopes to consent to now, e.g. Mail.Read,Calendars.Read',
    )
    .option('--json', 'newline-delimited JSON events on stdout')
    .action((opts: { deviceCode?: boolean; open: boolean; scopes?: string; json?: boolean }) =>
      run(opts, (ctx, out) => login(ctx, out, opts)),
    );

  program
    .command('status')
    .description('who is signed in, token expiry, broker and token cache state')
    .option('--json', 'a JSON status event on stdout')
    .action((opts: { json?: boolean }) => run(opts, status));

  const accounts = program
    .command('accounts')
    .description('list the cached accounts')
    .option('--json', 'a JSON accounts event on stdout')
    .enablePositionalOptions()
    .action((opts: { json?: boolean }) => run(opts, listAccounts));
  accounts
    .command('use <account>')
    .description('make an account (username or homeAccountId) the active one')
    .option('--json', 'a JSON event on stdout')
    .action((ref: string, opts: { json?: boolean }) =>
      run(opts, async (ctx, out) => {
        const account = await ctx.auth.useAccount(ref);
        out.event({ event: 'active_account', account });
        out.say(`Active account: ${describe(account)}`);
      }),
    );

  program
    .command('logout')
    .description('sign out: remove the account from the token cache and the broker')
    .option(
      '--account <account>',
      'the account to sign out (username or homeAccountId); default: the active one',
    )
    .option('--all', 'sign out every account')
    .option('--json', 'a JSON event on stdout')
    .action((opts: { account?: string; all?: boolean; json?: boolean }) =>
      run(opts, async (ctx, out) => {
        const removed = await ctx.auth.signOut(opts);
        out.event({ event: 'signed_out', accounts: removed });
        out.say(
          removed.length
            ? `Signed out ${removed.map(describe).join(', ')}`
            : 'No accounts were signed in',
        );
      }),
    );
}

async function login(
  ctx: CliContext,
  out: Output,
  opts: { deviceCode?: boolean; open: boolean; scopes?: string },
) {
  const scopes = (opts.scopes ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const result = await ctx.auth.signIn({
    method: opts.deviceCode ? 'device-code' : 'auto',
    scopes,
    openBrowser: opts.open,
    onBrowserUrl: (url) => {
      out.event({ event: 'open_browser', url });
      out.say(
        opts.open
          ? `Opening your browser to sign in. If it does not open, visit:\n  ${url}`
          : `To sign in, open this URL in a browser on this machine:\n  ${url}`,
      );
    },
    onDeviceCode: (p) => {
      out.event({
        event: 'device_code',
        verification_uri: p.verificationUri,
        user_code: p.userCode,
        message: p.message,
        expires_in: p.expiresInSeconds,
      });
      out.say(`To sign in, open ${p.verificationUri} and enter the code ${p.userCode}`);
    },
  });
  out.event({
    event: 'signed_in',
    account: result.account,
    method: result.method,
    scopes: result.scopes,
  });
  out.say(`Signed in as ${describe(result.account)} (${result.method})`);
  const cache = ctx.auth.cache.state;
  if (!cache.persisted)
    out.say(`Warning: this sign-in is not saved once the command ends. ${cache.reason}`);
}

async function status(ctx: CliContext, out: Output) {
  const { config, auth } = ctx;
  const system = signInSystem(await auth.brokerState(), auth.cache.state, ctx.demo);
  const broker = system.broker;
  const configured = config.clientId !== undefined;
  const accounts = configured ? await auth.listAccounts() : [];
  const account = accounts.find((a) => a.active);
  const tokens = account ? await auth.tokenFreshness(account.homeAccountId) : [];
  const cache = auth.cache.state;
  const endpoint = await readEndpointInfo(config.dataDir);
  out.event({
    event: 'status',
    configured,
    signedIn: account !== undefined,
    account: account ?? null,
    accounts,
    tokenExpiresOn: tokens[0]?.expiresOn ?? null,
    tokens,
    broker,
    cache: { ...system.cache, ...(cache.recovered ? { recovered: cache.recovered } : {}) },
    clientId: config.clientId ?? null,
    tenantId: config.tenantId,
    authority: config.authority.url,
    dataDir: config.dataDir,
    endpoint: endpoint
      ? { url: endpoint.url, pid: endpoint.pid, startedAt: endpoint.startedAt }
      : null,
  });
  if (!configured) {
    out.say(
      'Not configured: set VALET_CLIENT_ID and VALET_TENANT_ID (see the README, "Register the app"), or try `mcp-valet demo`',
    );
  } else if (!account) {
    out.say('Signed out. Run `mcp-valet login` to sign in.');
  } else {
    out.say(`Signed in as ${describe(account)}`);
    out.say(`  tenant       ${account.tenantId}`);
    out.say(`  account id   ${account.homeAccountId}`);
    for (const t of tokens) out.say(`  token        ${freshness(t)}`);
    if (tokens.length === 0) out.say('  token        none cached yet');
    for (const other of accounts.filter((a) => !a.active))
      out.say(`  also cached  ${describe(other)}`);
  }
  out.say(`Broker         ${broker.available ? 'in use' : 'not used'}: ${broker.reason}`);
  if (broker.lastFallback)
    out.say(`               last fell back to the browser: ${broker.lastFallback.reason}`);
  out.say(`Token cache    ${cache.kind}: ${system.cache.reason}`);
  out.say(`Authority      ${config.authority.url}`);
  out.say(
    `Endpoint       ${endpoint ? `${endpoint.url} (pid ${endpoint.pid})` : 'not running (start the app or `mcp-valet serve`)'}`,
  );
}

async function listAccounts(ctx: CliContext, out: Output) {
  const accounts = await ctx.auth.listAccounts();
  out.event({ event: 'accounts', accounts });
  if (accounts.length === 0) out.say('No cached accounts. Run `mcp-valet login` to add one.');
  for (const a of accounts)
    out.say(
      `${a.active ? '*' : ' '} ${describe(a)}  ${a.homeAccountId}${a.viaBroker ? '  (broker)' : ''}`,
    );
}

function describe(a: AccountSummary): string {
  return a.name ? `${a.name} <${a.username}>` : a.username;
}

function freshness(t: TokenFreshness): string {
  const minutes = Math.round((Date.parse(t.expiresOn) - Date.now()) / 60_000);
  const when = t.expired ? 'expired' : `valid for ${minutes} min`;
  return `${t.scopes.join(' ') || '(sign-in only)'}: ${when} (until ${t.expiresOn})`;
}
