import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { RunningGraph } from '../../main/demo/graph/index.ts';
import type { RunningIdp } from '../../main/demo/idp/index.ts';
import { launchBrowser } from './browser.ts';
import { startTestIdp } from './idp.ts';
import { startGraphFor } from './valet.ts';

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

/** A test IdP and a Graph stand-in that trusts it, started once for the file's tests. */
export interface IdpAndGraph {
  readonly idp: RunningIdp;
  readonly graph: RunningGraph;
}

/** Registers beforeAll/afterAll hooks that start a test IdP and its Graph stand-in. */
export function useIdpAndGraph(): IdpAndGraph {
  const fixture = {} as { idp: RunningIdp; graph: RunningGraph };
  beforeAll(async () => {
    fixture.idp = await startTestIdp();
    fixture.graph = await startGraphFor(fixture.idp);
  });
  afterAll(async () => {
    await fixture.graph?.close();
    await fixture.idp?.close();
  });
  return fixture;
}
