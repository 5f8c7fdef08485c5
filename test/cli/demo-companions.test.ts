import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { completeDeviceCode, launchBrowser, newUserContext } from '../support/browser.ts';
import { cliEnv, spawnCli, type CliProcess } from '../support/cli.ts';
import { commandsIn, runCommand, spawnCommand } from '../support/commands.ts';
import { connectClient } from '../support/valet.ts';

const [, alex] = DEMO_USERS as [IdpUser, IdpUser];

// A newcomer's machine: a fresh home, no VALET_DATA_DIR, `mcp-valet demo` in one terminal and
// the README's commands in another.
let env: NodeJS.ProcessEnv;
let demoDir: string;
let demo: CliProcess;
let info: { secret: string };
let url: string;
let browser: Browser | undefined;

beforeAll(async () => {
  const home = await mkdtemp(join(tmpdir(), 'valet-newcomer-'));
  env = cliEnv({ HOME: home, VALET_PORT: '0' });
  demoDir = join(home, '.config', 'mcp-valet', 'demo');
  demo = spawnCli(['demo', '--ui', '--json'], env);
  demo.child.stderr.on('data', (chunk: string) => (told += chunk));
  info = (await demo.nextEvent('demo', 60_000)) as unknown as { secret: string };
  url = String((await demo.nextEvent('ready')).url);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  demo?.child.kill('SIGINT');
  expect((await demo?.exited)?.code).toBe(0);
});

/** What the demo has printed for people so far. */
let told = '';

/** Waits until the demo has printed `text` for people. */
async function demoSays(text: string): Promise<void> {
  for (let i = 0; i < 100 && !told.includes(text); i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(told).toContain(text);
}

async function callInBackground(client: Client, subject: string) {
  return client.callTool({
    name: 'send_mail',
    arguments: { to: ['alex@contoso.test'], subject, body: 'SECRET-BODY-TEXT do not print' },
  });
}

describe('commands in another terminal while `mcp-valet demo` runs (no VALET_DATA_DIR)', () => {
  it('keys create, approvals list, policy and audit work with the running demo and say so; the key works at its endpoint', async () => {
    const created = await runCommand('mcp-valet keys create --name vscode --json', env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain(`using the running demo (its data directory is ${demoDir}`);
    expect(created.events[0]).toMatchObject({ event: 'key_created', url });
    const { client } = await connectClient(url, String(created.events[0]!.secret));
    const me = await client.callTool({ name: 'get_user_details', arguments: {} });
    expect(me.isError).toBeFalsy();
    await client.close();

    const approvals = await runCommand('mcp-valet approvals list --json', env);
    expect(approvals.code, approvals.stderr).toBe(0);
    expect(approvals.events[0]).toMatchObject({ event: 'approvals', approvals: [] });

    const policy = await runCommand('mcp-valet policy --json', env);
    expect(policy.code, policy.stderr).toBe(0);
    expect(policy.events[0]).toMatchObject({ file: join(demoDir, 'config.json') });

    const audit = await runCommand('mcp-valet audit --json', env);
    expect(audit.code, audit.stderr).toBe(0);
    const created_ = audit.events
      .map((e) => e.record as { type: string; actor?: { keyName?: string } })
      .filter((r) => r.type === 'key_created')
      .map((r) => r.actor?.keyName);
    // The demo's own key is in the audit log, as every key is.
    expect(created_).toEqual(['demo', 'vscode']);
  });

  it('status inside the demo says the broker and a cache outside the keyring are not needed there, instead of naming them as problems', async () => {
    const status = await runCommand('mcp-valet status', env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toMatch(/^Broker {9}not used: not needed in the demo$/m);
    const cache = /^Token cache {4}(\S+): (.*)$/m.exec(status.stderr);
    expect(cache, status.stderr).not.toBeNull();
    // A keyring that works is named as such; anything else is simply not needed here.
    if (!['libsecret', 'keychain', 'dpapi'].includes(cache![1]!))
      expect(cache![2]).toBe('not needed in the demo');
    expect(status.stderr).not.toMatch(/VALET_BROKER=off|not usable/);
  });

  it('a send_mail waiting for approval is announced in the demo terminal (recipients, subject marked, never the body) with the commands that decide it, and they work', async () => {
    const { client } = await connectClient(url, info.secret);
    const first = callInBackground(client, 'Quarterly \u202Ereport');
    const pending = await demo.nextEvent('approval_pending', 5_000);
    const id = String(pending.id);
    expect(pending).toMatchObject({
      tool: 'send_mail',
      summary: [
        { label: 'To', value: 'alex@contoso.test' },
        { label: 'Subject', value: 'Quarterly ⟦U+202E⟧report' },
      ],
      approve: `mcp-valet approvals approve ${id}`,
      deny: `mcp-valet approvals deny ${id}`,
      ui_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/#link=/),
    });
    await demoSays(`approve:  mcp-valet approvals approve ${id}`);
    await demoSays(`deny:     mcp-valet approvals deny ${id}`);
    await demoSays('Subject  Quarterly ⟦U+202E⟧report');

    const approved = await runCommand(String(pending.approve), env);
    expect(approved.code, approved.stderr).toBe(0);
    expect((await first).isError).toBeFalsy();

    const second = callInBackground(client, 'Another one');
    // nextEvent gives the first event of a name: wait for the one about the second call.
    const secondPending = await waitForAnother(id);
    const denied = await runCommand(secondPending.deny, env);
    expect(denied.code, denied.stderr).toBe(0);
    expect((await second).isError).toBe(true);
    await client.close();

    expect(demo.events.map((e) => JSON.stringify(e)).join('\n')).not.toContain('SECRET-BODY');
    expect(told).not.toContain('SECRET-BODY');
  });

  it('every command the demo prints at start works against it, as printed', async () => {
    const printed = commandsIn(told).filter(
      (c) => !c.includes('approvals approve') && !c.includes('approvals deny'),
    );
    expect(printed).toEqual(
      expect.arrayContaining([
        'mcp-valet ui',
        'mcp-valet keys create --name <client>',
        'mcp-valet approvals list',
        'mcp-valet audit',
      ]),
    );
    for (const command of new Set(printed)) {
      const result = await runCommand(command.replace('<client>', 'cursor'), env);
      expect({ command, code: result.code }, result.stderr).toEqual({ command, code: 0 });
    }
  });

  it('the consent hint a tool gives inside the demo (`mcp-valet login --scopes …`) works, and `accounts` lists who signed in', async () => {
    browser = await launchBrowser({
      caCertPem: await readFile(join(demoDir, 'demo-ca.pem'), 'utf8'),
    });
    const page = await (await newUserContext(browser)).newPage();
    // Alex signs in for their profile only.
    const login = spawnCommand('mcp-valet login --json', env);
    const code = await login.nextEvent('device_code');
    await completeDeviceCode(page, String(code.verification_uri), String(code.user_code), alex);
    expect((await login.exited).code).toBe(0);

    const key = await runCommand(
      `mcp-valet keys create --name alex-mail --tools list_messages --account ${alex.username} --json`,
      env,
    );
    expect(key.code, key.stderr).toBe(0);
    const { client } = await connectClient(url, String(key.events[0]!.secret));
    const refused = await client.callTool({ name: 'list_messages', arguments: {} });
    expect(refused.isError).toBe(true);
    const text = JSON.stringify(refused.content);
    const [hint] = commandsIn(text.replace(/\\"/g, '"'));
    expect(hint).toBe('mcp-valet login --scopes Mail.Read');

    // The hint as printed: it signs in through the device code (no browser on this machine).
    const consent = spawnCommand(hint!, env);
    let said = '';
    const shown = new Promise<RegExpExecArray>((resolve) =>
      consent.child.stderr.on('data', (chunk: string) => {
        said += chunk;
        const m = /open (\S+) and enter the code (\S+)/.exec(said);
        if (m) resolve(m);
      }),
    );
    const [, uri, userCode] = await shown;
    await completeDeviceCode(page, uri!, userCode!, alex, { consent: true });
    const done = await consent.exited;
    expect(done.code, done.stderr).toBe(0);
    const mail = await client.callTool({ name: 'list_messages', arguments: {} });
    expect(mail.isError).toBeFalsy();
    await client.close();

    const accounts = await runCommand('mcp-valet accounts --json', env);
    expect(accounts.code, accounts.stderr).toBe(0);
    expect(
      (accounts.events[0]!.accounts as Array<{ username: string }>).map((a) => a.username).sort(),
    ).toEqual([DEMO_USERS[0]!.username, alex.username].sort());
  });
});

async function waitForAnother(seen: string): Promise<{ id: string; deny: string }> {
  for (let i = 0; i < 100; i++) {
    const other = demo.events.find((e) => e.event === 'approval_pending' && e.id !== seen);
    if (other) return other as unknown as { id: string; deny: string };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the second call was not announced');
}
