import open from 'open';
import { ValetCore } from '../core/app/valet-core.ts';
import type { AuthService } from '../core/auth/auth-service.ts';
import { loadConfig, type ValetConfig } from '../core/config/load-config.ts';
import { createStderrLogger, type Logger } from '../core/util/logger.ts';
import type { Output } from './output.ts';

/** The core services a CLI command works with. The CLI is a composition root: it builds the real ones. */
export interface CliContext {
  config: ValetConfig;
  core: ValetCore;
  auth: AuthService;
  logger: Logger;
  env: NodeJS.ProcessEnv;
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
    openBrowser: async (url) => {
      const child = await open(url, { wait: false });
      // A launcher that cannot start only emits 'error'; unhandled, that would crash the CLI.
      child.on('error', (err) => logger.warn(`the browser launcher failed: ${err.message}`));
      if (child.pid === undefined)
        throw new Error('the system browser launcher could not be started');
    },
  });
  return { config, core, auth: core.auth, logger, env };
}
