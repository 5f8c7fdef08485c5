import { ValetCore } from '../core/app/valet-core.ts';
import type { AuthService } from '../core/auth/auth-service.ts';
import { loadConfig, type ValetConfig } from '../core/config/load-config.ts';
import { createStderrLogger, type Logger } from '../core/util/logger.ts';
import type { Output } from './output.ts';
import { openInBrowser } from './system-browser.ts';

/** The core services a CLI command works with. The CLI is a composition root: it builds the real ones. */
export interface CliContext {
  config: ValetConfig;
  core: ValetCore;
  auth: AuthService;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** Opens the window's link in the user's browser, when this machine shows one. */
  openUi: (url: string) => Promise<void>;
}

/** Loads the configuration and builds the core with the OS token cache and the system browser. */
export async function createCliContext(env: NodeJS.ProcessEnv, out: Output): Promise<CliContext> {
  const logger = createStderrLogger(env.VALET_LOG_LEVEL);
  const config = await loadConfig(env);
  const core = await ValetCore.create({
    config,
    logger,
    env,
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
    openUi: (url) => openInBrowser(url, env, (m) => logger.warn(m)),
  };
}
