import open from 'open';
import { AuthService } from '../core/auth/auth-service.ts';
import { openTokenCache } from '../core/cache/token-cache.ts';
import { loadConfig, type ValetConfig } from '../core/config/load-config.ts';
import { createStderrLogger, type Logger } from '../core/util/logger.ts';
import type { Output } from './output.ts';

/** The core services a CLI command works with. The CLI is a composition root: it builds the real ones. */
export interface CliContext {
  config: ValetConfig;
  auth: AuthService;
  logger: Logger;
}

/** Loads the configuration and builds the auth service with the OS token cache and browser. */
export async function createCliContext(env: NodeJS.ProcessEnv, out: Output): Promise<CliContext> {
  const logger = createStderrLogger(env.VALET_LOG_LEVEL);
  const config = await loadConfig(env);
  const cache = await openTokenCache({
    dataDir: config.dataDir,
    allowPlaintext: config.allowPlaintextCache,
    onRecovered: (r) =>
      out.say(
        `mcp-valet: the token cache was damaged (${r.reason}); it was set aside as ${r.setAsideTo} and a fresh one started. Sign in again if needed.`,
      ),
  });
  const auth = new AuthService({
    config,
    cache,
    logger,
    env,
    openBrowser: async (url) => {
      const child = await open(url, { wait: false });
      // A launcher that cannot start only emits 'error'; unhandled, that would crash the CLI.
      child.on('error', (err) => logger.warn(`the browser launcher failed: ${err.message}`));
      if (child.pid === undefined)
        throw new Error('the system browser launcher could not be started');
    },
  });
  return { config, auth, logger };
}
