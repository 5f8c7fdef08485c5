import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { RunningIdp } from '../../main/demo/idp/index.ts';
import { launchBrowser } from './browser.ts';
import { startTestIdp } from './idp.ts';

/** A test IdP and Debian's Chromium, started once for the file's tests and stopped after. */
export interface IdpAndBrowser {
  readonly idp: RunningIdp;
  readonly browser: Browser;
}

/** Registers beforeAll/afterAll hooks that start a test IdP and a browser for this file. */
export function useIdpAndBrowser(): IdpAndBrowser {
  const fixture = {} as { idp: RunningIdp; browser: Browser };
  beforeAll(async () => {
    [fixture.idp, fixture.browser] = await Promise.all([startTestIdp(), launchBrowser()]);
  });
  afterAll(async () => {
    await fixture.browser?.close();
    await fixture.idp?.close();
  });
  return fixture;
}
