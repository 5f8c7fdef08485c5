import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { AuthService, type AuthServiceOptions } from '../../main/core/auth/auth-service.ts';
import { AUTH_CHANGE_EVENTS, type AuthEventMap } from '../../main/core/auth/auth-types.ts';
import { openTokenCache } from '../../main/core/cache/token-cache.ts';
import { loadConfig } from '../../main/core/config/load-config.ts';
import type { IdpUser, RunningIdp } from '../../main/demo/idp/index.ts';
import { newUserContext, signInAtIdp, type ConsentAnswer } from './browser.ts';

/** The environment that points the core at a test IdP. */
export function idpEnv(
  idp: RunningIdp,
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    VALET_DATA_DIR: dataDir,
    VALET_CLIENT_ID: idp.clientIds[0] ?? '',
    VALET_AUTHORITY: idp.authority,
    VALET_BROKER: 'off',
    ...extra,
  };
}

/** Builds a real AuthService (real config, token cache and MSAL) against a test IdP. */
export async function createTestAuth(
  idp: RunningIdp,
  options: Partial<Omit<AuthServiceOptions, 'config' | 'cache'>> & {
    valetEnv?: Record<string, string>;
    dataDir?: string;
  } = {},
): Promise<{
  auth: AuthService;
  dataDir: string;
  events: Array<{ name: keyof AuthEventMap; payload: unknown }>;
}> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'valet-auth-')));
  const { valetEnv, dataDir: _dataDir, ...serviceOptions } = options;
  const config = await loadConfig(idpEnv(idp, dataDir, valetEnv));
  const cache = await openTokenCache({ dataDir, allowPlaintext: config.allowPlaintextCache });
  const auth = new AuthService({
    platform: 'linux',
    env: { DISPLAY: ':99' },
    ...serviceOptions,
    config,
    cache,
  });
  const events: Array<{ name: keyof AuthEventMap; payload: unknown }> = [];
  for (const name of [...AUTH_CHANGE_EVENTS, 'failed'] as const) {
    auth.on(name, (payload: unknown) => events.push({ name, payload }));
  }
  return { auth, dataDir, events };
}

/**
 * A system-browser stand-in made of a real browser: opens MSAL's authorize URL in
 * Chromium, in a context of the user's own, and completes the IdP's pages as that user.
 */
export class BrowserUser {
  readonly #browser: Browser;
  readonly #contexts = new Map<string, BrowserContext>();
  /** Every URL the app asked to open. */
  readonly opened: string[] = [];

  constructor(browser: Browser) {
    this.#browser = browser;
  }

  opener(user: IdpUser, consent?: ConsentAnswer): (url: string) => Promise<void> {
    return async (url) => {
      this.opened.push(url);
      const page = await (await this.context(user)).newPage();
      await page.goto(url);
      await signInAtIdp(page, user, { consent });
      await page.close();
    };
  }

  async context(user: IdpUser): Promise<BrowserContext> {
    let context = this.#contexts.get(user.username);
    if (!context) {
      context = await newUserContext(this.#browser);
      this.#contexts.set(user.username, context);
    }
    return context;
  }
}
