import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY, cliEnv, type CliProcess } from '../support/cli.ts';
import { commandsIn, runCommand, spawnCommand } from '../support/commands.ts';
import { connectClient } from '../support/valet.ts';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/** A command the README shows, and the section it is in. */
interface Shown {
  section: string;
  command: string;
}

/**
 * Every command the README shows: each line of its `sh` blocks (split at `&&`, comments
 * dropped), and each command written inline in the text (`npx mcp-valet …`, `npm …`, …).
 */
function readmeCommands(): Shown[] {
  const found: Shown[] = [];
  let section = '';
  let block: string | undefined;
  for (const line of README.split('\n')) {
    const fence = /^```(\w*)/.exec(line);
    if (fence) {
      block = block === undefined ? fence[1] : undefined;
      continue;
    }
    if (block === 'sh') {
      const parts = line.replace(/\s+#.*$/, '').split('&&');
      for (const part of parts.map((p) => p.trim()).filter(Boolean))
        found.push({ section, command: part });
      continue;
    }
    if (block !== undefined) continue;
    const heading = /^#{2,3} (.*)/.exec(line);
    if (heading) section = heading[1]!;
    else
      for (const m of line.matchAll(
        /`((?:[A-Z_]+=\S+ )*(?:npx mcp-valet|mcp-valet|npm|\.ci\/|sudo|sh \.ci)[^`]*)`/g,
      ))
        found.push({ section, command: m[1]! });
  }
  return found;
}

/** Commands this test does not run, each with the reason. */
const SKIPPED: Array<{ what: string; when: (s: Shown) => boolean; reason: string }> = [
  {
    what: '.ci/setup',
    when: (s) => s.command === '.ci/setup',
    reason:
      'installs the locked dependencies and builds dist/: it ran before this suite (npm test builds first, .ci/run runs it on a clean machine)',
  },
  {
    what: '.ci/run',
    when: (s) => s.command === '.ci/run',
    reason: "is CI's whole run on a clean machine: system packages, then npm test (this suite)",
  },
  {
    what: 'npm start',
    when: (s) => s.command === 'npm start',
    reason:
      "starts the Electron desktop app: Electron's runtime is downloaded from the internet on its first start, and there is no desktop session here",
  },
  {
    what: 'npm test',
    when: (s) => s.command === 'npm test',
    reason: 'is this suite',
  },
  {
    what: 'npm run dist',
    when: (s) => s.command === 'npm run dist',
    reason: 'builds the installers, downloading Electron from the internet',
  },
  {
    what: 'npm run bench',
    when: (s) => s.command.startsWith('npm run bench'),
    reason: 'is the benchmark (minutes of CPU), not a check of behaviour',
  },
  {
    what: 'sudo apt-get install …',
    when: (s) => s.command.startsWith('sudo apt-get install'),
    reason: "installs Debian's system packages as root (.ci/run does it)",
  },
  {
    what: 'VALET_UPDATE_README_SCREENSHOT=1 …',
    when: (s) => s.command.startsWith('VALET_UPDATE_README_SCREENSHOT=1 '),
    reason: "rewrites the README's screenshot on purpose (test/ui/window-e2e.test.ts)",
  },
  {
    what: 'the Entra tenant commands',
    when: (s) => s.section === 'Register the app in Entra ID',
    reason: 'need an app registration in a real Entra tenant, which this machine cannot reach',
  },
  {
    what: 'the team server against a real tenant',
    when: (s) => s.section === 'Run the team server',
    reason:
      'needs an app registration in a real Entra tenant, a public host and its TLS certificate: test/cli/serve-remote.test.ts runs serve --remote against the demo IdP, and `demo --remote` runs here',
  },
  {
    what: 'the team server in containers and scaled out',
    when: (s) =>
      ['In a container, behind a load balancer', 'Several instances'].includes(s.section),
    reason:
      'needs Docker, a registry, Azure or Kubernetes, and several machines: test/deploy/ runs the Dockerfile’s entrypoint and health check, the haproxy config and the compose environment; test/cluster/ runs two instances over Redis; test/cli/audit-instances.test.ts runs audit verify --dir … --redis',
  },
  {
    what: 'the stand-alone test IdP',
    when: (s) => s.section === 'Try the sign-in against the local test identity provider',
    reason:
      'a person pastes the export line `npm run idp` prints, then signs in in a browser; test/cli/cli-auth.test.ts signs in through the same IdP',
  },
  {
    what: 'the consent example in Tools',
    when: (s) => s.section === 'Tools' && s.command === 'mcp-valet login --scopes Mail.Read',
    reason:
      'signs in through a browser at the IdP: test/cli/demo-companions.test.ts runs it, as a tool prints it, against the running demo',
  },
  {
    what: 'the Command line table',
    when: (s) => s.section === 'Command line',
    reason: "shows each command's syntax ([options], placeholders), not a command to run",
  },
  {
    what: 'names in the text',
    when: (s) =>
      ['mcp-valet', '.ci/', 'mcp-valet approvals'].includes(s.command) &&
      ['Architecture', 'Security model'].includes(s.section),
    reason: 'name a program, a folder or a group of commands (run in their own sections)',
  },
];

// A newcomer's machine: a fresh home, no VALET_DATA_DIR. Only the port is left to the system,
// so that this test can run beside others (the README's 47652 is the default otherwise).
let env: NodeJS.ProcessEnv;
const state: { demo?: Watched; url?: string; demoSecret?: string; keys: Record<string, string> } = {
  keys: {},
};

/** A long-running command whose output for people is followed as it comes. */
interface Watched {
  proc: CliProcess;
  said(): string;
  until(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

function watch(proc: CliProcess): Watched {
  let said = '';
  proc.child.stderr.on('data', (chunk: string) => (said += chunk));
  return {
    proc,
    said: () => said,
    async until(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(said);
        if (m) return m;
        if (Date.now() > deadline || proc.child.exitCode !== null)
          throw new Error(`never printed ${pattern}; it printed:\n${said}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };
}

/** Runs a long-running command as written until it serves, then stops it as Ctrl+C would. */
async function serveAndStop(command: string, shows: RegExp): Promise<void> {
  const started = watch(spawnCommand(command, env));
  await started.until(shows);
  started.proc.child.kill('SIGINT');
  const ended = await started.proc.exited;
  expect({ command, code: ended.code }, ended.stderr).toEqual({ command, code: 0 });
  expect(ended.stderr).toContain('Stopped (SIGINT)');
}

/** Commands that the commands run here told the user to run: each must work too. */
const told = new Set<string>();

/** Runs a command as written; it must succeed. */
async function succeeds(command: string) {
  const result = await runCommand(command, env);
  expect({ command, code: result.code }, result.stderr).toEqual({ command, code: 0 });
  for (const hint of commandsIn(result.stderr)) told.add(hint);
  return result;
}

/** A key of the demo's user, made through the CLI, that may call send_mail. */
async function mailKey(name: string): Promise<string> {
  const made = await runCommand(
    `mcp-valet keys create --name ${name} --tools send_mail --json`,
    env,
  );
  expect(made.code, made.stderr).toBe(0);
  return String(made.events[0]!.secret);
}

/**
 * A send_mail that waits for approval, and the id the demo's terminal announces for it
 * (as a person reads it there, to put in place of `<id>`).
 */
async function waitingMail(name: string) {
  const { client } = await connectClient(state.url!, await mailKey(name));
  const call = client.callTool({
    name: 'send_mail',
    arguments: { to: ['alex@contoso.test'], subject: `From ${name}`, body: 'Hello.' },
  });
  const seen = state.demo!.said().length;
  let id = '';
  for (let i = 0; i < 200 && !id; i++) {
    const announced = /approve: {2}mcp-valet approvals approve (\S+)/.exec(
      state.demo!.said().slice(seen),
    );
    if (announced) id = announced[1]!;
    else await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(id, 'the demo announced the waiting call').not.toBe('');
  return { client, call, id };
}

/** What running each command the README shows means here, by the command as written. */
const RUN: Record<string, (command: string) => Promise<void>> = {
  'npx mcp-valet demo': (c) => serveAndStop(c, /MCP Valet is serving at http/),
  'npx mcp-valet demo --remote': (c) => serveAndStop(c, /MCP Valet serves a team at https:/),
  'npx mcp-valet demo --ui': async (c) => {
    // This one stays up: the commands below work with it, as in a second terminal.
    state.demo = watch(spawnCommand(c, env));
    state.url = (await state.demo.until(/MCP Valet is serving at (\S+)/))[1];
    state.demoSecret = (await state.demo.until(/for the demo \(kept in .*\):\n {2}(mvk_\S+)/))[1];
    expect(state.demo.said()).toMatch(/The window: http:\/\/127\.0\.0\.1:\d+\/#link=/);
  },
  'npx mcp-valet --help': async (c) => {
    expect((await succeeds(c)).stdout).toContain('Usage: mcp-valet');
  },
  'npx mcp-valet keys create --name vscode': async (c) => {
    const created = await succeeds(c);
    expect(created.stderr).toContain(`Endpoint: ${state.url}`);
    state.keys.vscode = /\n {2}(mvk_\S+)/.exec(created.stderr)![1]!;
    const { client } = await connectClient(state.url!, state.keys.vscode);
    expect(
      (await client.callTool({ name: 'get_user_details', arguments: {} })).isError,
    ).toBeFalsy();
    await client.close();
  },
  'npx mcp-valet keys create --name claude --tools get_user_details,list_messages,send_mail':
    async (c) => {
      const created = await succeeds(c);
      state.keys.claude = /\n {2}(mvk_\S+)/.exec(created.stderr)![1]!;
      const { client } = await connectClient(state.url!, state.keys.claude);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        'get_user_details',
        'list_messages',
        'send_mail',
      ]);
      await client.close();
    },
  // It runs beside the demo, on the default data dir.
  'npx mcp-valet serve': (c) => serveAndStop(c, /MCP Valet is serving at http/),
  'mcp-valet stdio': async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI_ENTRY, 'stdio'],
      env: { ...(env as Record<string, string>), VALET_KEY: state.keys.vscode! },
    });
    const client = new Client({ name: 'stdio-only-client', version: '1' });
    await client.connect(transport);
    expect(
      (await client.callTool({ name: 'get_user_details', arguments: {} })).isError,
    ).toBeFalsy();
    await client.close();
  },
  'mcp-valet audit': async (c) => {
    expect((await succeeds(c)).stderr).toContain('key_created');
  },
  'npx mcp-valet keys revoke <id or name>': async (c) => {
    await succeeds(c.replace('<id or name>', 'claude'));
    await expect(connectClient(state.url!, state.keys.claude!)).rejects.toThrow(/401|revoked/);
  },
  'npx mcp-valet serve --ui': (c) => serveAndStop(c, /The window: http/),
  'npx mcp-valet ui': async (c) => {
    expect((await succeeds(c)).stderr).toMatch(/The window: http:\/\/127\.0\.0\.1:\d+\/#link=/);
  },
  'npx mcp-valet policy': async (c) => {
    expect((await succeeds(c)).stderr).toMatch(/^Policy from .*demo\/config\.json/m);
  },
  'npx mcp-valet approvals list': async (c) => {
    await succeeds(c);
  },
  'npx mcp-valet approvals approve <id>': async (c) => {
    const { client, call, id } = await waitingMail('approver-once');
    await succeeds(c.replace('<id>', id));
    expect((await call).isError).toBeFalsy();
    await client.close();
  },
  'npx mcp-valet approvals approve <id> --minutes 30': async (c) => {
    const { client, call, id } = await waitingMail('approver-window');
    await succeeds(c.replace('<id>', id));
    expect((await call).isError).toBeFalsy();
    await client.close();
  },
  'npx mcp-valet approvals deny <id>': async (c) => {
    const { client, call, id } = await waitingMail('approver-deny');
    await succeeds(c.replace('<id>', id));
    expect((await call).isError).toBe(true);
    await client.close();
  },
  'npx mcp-valet audit': async (c) => {
    expect((await succeeds(c)).stderr).toContain('approval_decided');
  },
  'npx mcp-valet audit verify': async (c) => {
    expect((await succeeds(c)).stderr).toContain('The audit log is intact');
  },
};

afterAll(async () => {
  if (!state.demo) return;
  state.demo.proc.child.kill('SIGINT');
  expect((await state.demo.proc.exited).code).toBe(0);
});

describe('README.md', () => {
  it('every command it shows is either run by this test or skipped with a reason', () => {
    const unknown = readmeCommands().filter(
      (s) => !SKIPPED.some((skip) => skip.when(s)) && !(s.command in RUN),
    );
    expect(unknown).toEqual([]);
  });

  it('every command of the quick start, connecting a client, keys, the window, the policy, approvals and the audit log works as written against the running demo', async () => {
    const home = await mkdtemp(join(tmpdir(), 'valet-readme-'));
    env = cliEnv({ HOME: home, VALET_PORT: '0' });
    const ran = new Set<string>();
    for (const shown of readmeCommands()) {
      if (SKIPPED.some((skip) => skip.when(shown)) || ran.has(shown.command)) continue;
      ran.add(shown.command);
      await RUN[shown.command]!(shown.command);
    }
    expect([...ran].sort()).toEqual(Object.keys(RUN).sort());
    // What those commands told the user to run works as well, as they wrote it.
    for (const hint of told) {
      if (ran.has(hint) || ran.has(`npx ${hint}`)) continue;
      await succeeds(hint.replace('<client>', 'hinted'));
    }
  }, 180_000);
});
