import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ValetCore } from '../../core/app/valet-core.ts';
import { defaultDataDir } from '../../core/config/data-dir.ts';
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
import { EXIT, type CliIo, type Output } from '../output.ts';
import { openInBrowser } from '../system-browser.ts';
import { serveUntilStopped } from './serve-command.ts';

/** Runs the demo: relaunches trusting the demo CA if needed, then serves until stopped. */
export async function runDemo(
  io: CliIo,
  out: Output,
  options: { port?: string; ui?: boolean },
): Promise<number> {
  const { port, ui = false } = options;
  const openBrowser = (url: string) => openInBrowser(url, io.env);
  const dataDir = io.env.VALET_DATA_DIR?.trim() || join(defaultDataDir(), 'demo');
  const { ca, bundlePath } = await loadDemoCa(dataDir, io.env.NODE_EXTRA_CA_CERTS);
  // Node reads NODE_EXTRA_CA_CERTS only at start, so the demo runs itself again trusting its CA.
  if (io.env.NODE_EXTRA_CA_CERTS !== bundlePath)
    return relaunch({ ...io.env, NODE_EXTRA_CA_CERTS: bundlePath, VALET_DATA_DIR: dataDir });

  const demo = await startDemoEnvironment(ca);
  try {
    const env: NodeJS.ProcessEnv = {
      ...io.env,
      ...demo.settings,
      VALET_DATA_DIR: dataDir,
      ...(port !== undefined ? { VALET_PORT: port } : {}),
    };
    const logger = createStderrLogger(env.VALET_LOG_LEVEL);
    const core = await ValetCore.create({ config: await loadConfig(env), logger, env });
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
    await serveUntilStopped(core, out, {
      ui,
      demo: true,
      openBrowser,
      onReady: (url) => {
        const configs = clientConfigs(url, secret, dataDir);
        out.event({
          event: 'demo',
          users: DEMO_ACCOUNTS.map((u) => ({
            username: u.username,
            name: u.name,
            password: u.password,
            roles: u.roles ?? [],
          })),
          signed_in: signedIn.account.username,
          key: { id: key.id, name: key.name, tools: key.tools },
          secret,
          configs,
        });
        out.say(
          'MCP Valet demo: a built-in tenant (contoso.test) with a Graph stand-in. Nothing leaves this machine.',
        );
        out.say(
          `Signed in as ${signedIn.account.name} <${signedIn.account.username}>. Demo users:`,
        );
        for (const u of DEMO_ACCOUNTS) out.say(`  ${u.username.padEnd(22)} password ${u.password}`);
        out.say('');
        out.say(`Valet key '${key.name}' for the demo (kept in ${join(dataDir, 'demo-key')}):`);
        out.say(`  ${secret}`);
        out.say('');
        out.say('VS Code: put this in .vscode/mcp.json');
        out.say(JSON.stringify(configs.vscode, null, 2));
        out.say('Claude Desktop: put this in claude_desktop_config.json');
        out.say(JSON.stringify(configs.claudeDesktop, null, 2));
        out.say('');
      },
    });
    return EXIT.ok;
  } finally {
    await demo.close();
  }
}

/**
 * The demo's ready-made key, kept (0600) in the demo data dir so that a pasted client
 * configuration keeps working across demo runs. It only reaches the demo tenant; real keys
 * are never stored in clear.
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
  if (stale) await core.keys.revoke(stale.id);
  const created = await core.keys.create({
    name: 'demo',
    tools: [...TOOL_NAMES],
    readOnly: false,
    account: { homeAccountId, username },
  });
  await writeFileAtomic(path, `${created.secret}\n`);
  return created;
}

function relaunch(env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env,
    stdio: 'inherit',
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? EXIT.failure);
    }),
  );
}
