import { ValetCore } from '../core/app/valet-core.ts';
import type { AuthService } from '../core/auth/auth-service.ts';
import { loadConfig, type ValetConfig } from '../core/config/load-config.ts';
import { createStderrLogger, type Logger } from '../core/util/logger.ts';
import type { Output } from './output.ts';
import { DEMO_TOKEN_CACHE } from './demo-session.ts';
import { findInstance, type FindOptions } from './find-instance.ts';
import { openInBrowser } from './system-browser.ts';
import { trustCa } from './trust-ca.ts';

/** The core services a CLI command works with. The CLI is a composition root: it builds the real ones. */
export interface CliContext {
  config: ValetConfig;
  core: ValetCore;
  auth: AuthService;
  logger: Logger;
  /** The environment the configuration was read from (the demo's settings, when it is the demo). */
  env: NodeJS.ProcessEnv;
  /** The instance is the running demo. */
  demo: boolean;
  /** Opens the window's link in the user's browser, when this machine shows one. */
  openUi: (url: string) => Promise<void>;
}

/**
 * Finds the MCP Valet to work with (the running demo included), loads its configuration and
 * builds the core with the OS token cache and the system browser.
 */
export async function createCliContext(
  userEnv: NodeJS.ProcessEnv,
  out: Output,
  find: FindOptions = {},
): Promise<CliContext> {
  const instance = await findInstance(userEnv, find);
  if (instance.note) out.say(instance.note);
  const { env, demo } = instance;
  // The demo's sign-in server has a certificate from the demo's own authority.
  if (demo && !trustCa(demo.ca))
    out.say(
      `mcp-valet: Node.js ${process.version} cannot trust the demo's certificate authority while running (22.19 or newer can): signing in to the demo from here will fail`,
    );
  const logger = createStderrLogger(env.VALET_LOG_LEVEL);
  const config = await loadConfig(env);
  const core = await ValetCore.create({
    config,
    logger,
    env,
    ...(demo ? { tokenCache: DEMO_TOKEN_CACHE } : {}),
    onCacheRecovered: (r) =>
      out.say(
        `mcp-valet: the token cache was damaged (${r.reason}); it was set aside as ${r.setAsideTo} and a fresh one started. Sign in again if needed.`,
      ),
    openBrowser: (url) => openInBrowser(url, env, (m) => logger.warn(m)),
  });
  return {
    config,
    core,
    auth: core.auth,
    logger,
    env,
    demo: demo !== undefined,
    openUi: (url) => openInBrowser(url, env, (m) => logger.warn(m)),
  };
}
