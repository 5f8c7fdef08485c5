import { join } from 'node:path';
import { ValetCore } from '../../core/app/valet-core.ts';
import { loadConfig } from '../../core/config/load-config.ts';
import type { ValetKey } from '../../core/keys/key-store.ts';
import { TOOL_NAMES } from '../../core/mcp/tool-definition.ts';
import { ALL_TOOLS } from '../../core/mcp/tools/index.ts';
import { readFileIfExists, writeFileAtomic } from '../../core/util/atomic-file.ts';
import { createStderrLogger } from '../../core/util/logger.ts';
import { ValetError } from '../../core/util/valet-error.ts';
import { loadDemoCa } from '../../demo/demo-ca.ts';
import { DEMO_ACCOUNTS, startDemoEnvironment } from '../../demo/demo-environment.ts';
import { clientConfigs } from '../../core/app/client-configs.ts';
import { DEMO_TOKEN_CACHE, removeDemoSession, writeDemoSession } from '../demo-session.ts';
import { commandFor, demoDataDir } from '../find-instance.ts';
import { EXIT, type CliIo, type Output } from '../output.ts';
import { runInstead } from '../run-instead.ts';
import { stopSignal } from '../stop-signal.ts';
import { openInBrowser } from '../system-browser.ts';
import { trustCa } from '../trust-ca.ts';
import { prepareRemoteDemo } from '../../demo/remote-demo.ts';
import { serveRemoteUntilStopped, serveUntilStopped } from './serve-command.ts';

/** Runs the demo: trusts the demo CA, signs the first demo user in, then serves until stopped. */
export async function runDemo(
  io: CliIo,
  out: Output,
  options: { port?: string; ui?: boolean },
): Promise<number> {
  const { port, ui = false } = options;
  const openBrowser = (url: string) => openInBrowser(url, io.env);
  const dataDir = demoDataDir(io.env);
  const { ca, bundlePath } = await loadDemoCa(dataDir, io.env.NODE_EXTRA_CA_CERTS);
  // Sign-in talks to the demo's IdP, whose certificate comes from the demo CA. A Node that
  // cannot add a CA while running reads it from NODE_EXTRA_CA_CERTS: run again with it.
  if (io.env.NODE_EXTRA_CA_CERTS !== bundlePath && !trustCa(ca.certPem))
    return relaunch({ ...io.env, NODE_EXTRA_CA_CERTS: bundlePath, VALET_DATA_DIR: dataDir });
  // A Ctrl+C from here on stops the demo cleanly, once it has started.
  void stopSignal(out);

  const demo = await startDemoEnvironment(ca);
  try {
    // Its tokens are for a tenant that lives only while the demo runs: a 0600 file in the demo's
    // data dir may hold them where there is no keyring, so that other commands share them.
    const settings = { ...demo.settings, VALET_ALLOW_PLAINTEXT_CACHE: '1' };
    const env: NodeJS.ProcessEnv = {
      ...io.env,
      ...settings,
      VALET_DATA_DIR: dataDir,
      ...(port !== undefined ? { VALET_PORT: port } : {}),
    };
    const logger = createStderrLogger(env.VALET_LOG_LEVEL);
    const core = await ValetCore.create({
      config: await loadConfig(env),
      logger,
      env,
      tokenCache: DEMO_TOKEN_CACHE,
    });
    // The demo IdP forgets everything when it stops: start from a clean account list.
    await core.auth.signOut({ all: true });
    const [first] = DEMO_ACCOUNTS;
    if (!first) throw new ValetError('demo_failed', 'The demo tenant has no users');
    const scopes = [...new Set(ALL_TOOLS.flatMap((t) => t.scopes))];
    const signedIn = await core.auth.signIn({
      method: 'device-code',
      scopes,
      // The demo signs its first user in through the real device code grant, approved at the demo IdP.
      onDeviceCode: (p) =>
        void demo.idp
          .approveDeviceCode(p.userCode, first.username)
          .catch((err: unknown) => logger.error(`demo sign-in: ${String(err)}`)),
    });
    const { key, secret } = await demoKey(
      core,
      dataDir,
      signedIn.account.homeAccountId,
      signedIn.account.username,
    );
    // Other commands (keys, approvals, login, …) find the running demo through this record.
    await writeDemoSession(dataDir, { settings, ca: ca.certPem });
    try {
      await serveUntilStopped(core, out, {
        ui,
        demo: true,
        openBrowser,
        env: io.env,
        onReady: async (url) => {
          const configs = clientConfigs(url, secret, dataDir);
          out.event({
            event: 'demo',
            users: demoUsers(),
            signed_in: signedIn.account.username,
            key: { id: key.id, name: key.name, tools: key.tools },
            secret,
            configs,
            data_dir: dataDir,
          });
          out.say(
            'MCP Valet demo: a built-in tenant (contoso.test) with a Graph stand-in. Nothing leaves this machine.',
          );
          out.say(
            `Signed in as ${signedIn.account.name} <${signedIn.account.username}>. Demo users:`,
          );
          for (const u of DEMO_ACCOUNTS)
            out.say(`  ${u.username.padEnd(22)} password ${u.password}`);
          out.say('');
          out.say(`Valet key '${key.name}' for the demo (kept in ${join(dataDir, 'demo-key')}):`);
          out.say(`  ${secret}`);
          out.say('');
          out.say('VS Code: put this in .vscode/mcp.json; VS Code asks for the key above once.');
          out.say(JSON.stringify(configs.vscode, null, 2));
          out.say('Claude Desktop: put this in claude_desktop_config.json');
          out.say(JSON.stringify(configs.claudeDesktop, null, 2));
          out.say('');
          out.say(
            `Other terminals: while the demo runs, \`${await commandFor('keys create --name <client>', dataDir, io.env)}\`, \`${await commandFor('approvals list', dataDir, io.env)}\`, \`${await commandFor('audit', dataDir, io.env)}\` and the rest work with it (its data directory is ${dataDir}).`,
          );
          out.say('');
        },
      });
    } finally {
      await removeDemoSession(dataDir);
    }
    return EXIT.ok;
  } finally {
    await demo.close();
  }
}

/**
 * Runs the team server's demo: the demo tenant with the server's app registration (a certificate
 * credential, an API at the public URL), and `serve --remote` against it on https://localhost,
 * both sign-in modes, until stopped. People sign in as the demo users; nothing is pre-made.
 */
export async function runRemoteDemo(
  io: CliIo,
  out: Output,
  options: { port?: string },
): Promise<number> {
  const dataDir = join(demoDataDir(io.env), 'remote');
  const { ca, bundlePath } = await loadDemoCa(dataDir, io.env.NODE_EXTRA_CA_CERTS);
  if (io.env.NODE_EXTRA_CA_CERTS !== bundlePath && !trustCa(ca.certPem))
    return relaunch({ ...io.env, NODE_EXTRA_CA_CERTS: bundlePath });
  const port = options.port === undefined ? undefined : Number(options.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
    throw new ValetError('usage', `--port ${options.port} is not a port: use 1 to 65535`);
  const demo = await prepareRemoteDemo({ ca, dataDir, env: io.env, ...(port ? { port } : {}) });
  try {
    const { loadRemoteConfig } = await import('../../core/remote/remote-config.ts');
    const config = await loadRemoteConfig(demo.env, {
      flags: demo.flags,
      configFile: join(dataDir, 'config.json'),
    });
    await serveRemoteUntilStopped(config, out, demo.env, ([valetUrl, entraUrl]) => {
      out.event({
        event: 'demo',
        users: demoUsers(),
        url: valetUrl,
        entra_url: entraUrl ?? null,
        ca: bundlePath,
        data_dir: dataDir,
      });
      out.say(
        'MCP Valet team server demo: a built-in tenant (contoso.test) with a Graph stand-in. Nothing leaves this machine.',
      );
      out.say(`Paste ${valetUrl} into VS Code (MCP: Add Server → HTTP), Claude or Cursor:`);
      out.say('the client registers itself, you sign in as a demo user and choose its tools.');
      if (entraUrl)
        out.say(`Clients that bring an Entra token for the API use ${entraUrl} instead.`);
      out.say(`Your browser warns once about the demo's certificate authority (${bundlePath}).`);
      out.say('Demo users:');
      for (const u of DEMO_ACCOUNTS) out.say(`  ${u.username.padEnd(22)} password ${u.password}`);
      out.say('');
    });
    return EXIT.ok;
  } finally {
    await demo.environment.close();
  }
}

/**
 * The demo's ready-made key, kept (0600) in the demo data dir so that a pasted client
 * configuration keeps working across demo runs. It only reaches the demo tenant; real keys
 * are never stored in clear. Made and replaced through the core, so the audit log has them.
 */
async function demoKey(
  core: ValetCore,
  dataDir: string,
  homeAccountId: string,
  username: string,
): Promise<{ key: ValetKey; secret: string }> {
  const path = join(dataDir, 'demo-key');
  const saved = (await readFileIfExists(path))?.trim();
  if (saved) {
    const verdict = await core.keys.verify(saved);
    if ('key' in verdict) return { key: verdict.key, secret: saved };
  }
  const stale = (await core.keys.list()).find((k) => k.name === 'demo' && !k.revokedAt);
  if (stale) await core.revokeKey(stale.id);
  const created = await core.createKey({
    name: 'demo',
    tools: [...TOOL_NAMES],
    readOnly: false,
    account: { homeAccountId, username },
  });
  await writeFileAtomic(path, `${created.secret}\n`);
  return created;
}

/** The demo users as the `demo` event lists them: their passwords are public by design. */
function demoUsers() {
  return DEMO_ACCOUNTS.map((u) => ({
    username: u.username,
    name: u.name,
    password: u.password,
    roles: u.roles ?? [],
  }));
}

/** Runs the demo again in a Node that trusts the demo CA from its start. */
async function relaunch(env: NodeJS.ProcessEnv): Promise<number> {
  const { code } = await runInstead(
    process.execPath,
    [...process.execArgv, ...process.argv.slice(1)],
    env,
  );
  return code ?? EXIT.failure;
}
