import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { inject } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';

/** Who to sign in as at the test IdP. */
export interface IdpCredentials {
  username: string;
  password: string;
}

/** How to answer the consent page: accept, cancel, must not appear (false), or accept if shown (undefined). */
export type ConsentAnswer = boolean | 'cancel';

function spkiHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * Launches Debian's headless Chromium. It trusts the run's test CA (and only that one)
 * through its public-key pin, so pages of the test IdP load without certificate errors.
 */
export async function launchBrowser(options: { caCertPem?: string } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found. Install Debian's chromium package: sudo apt-get install chromium`,
    );
  }
  const caCertPem = options.caCertPem ?? inject('idpCa').certPem;
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${spkiHash(caCertPem)}`,
    ],
  });
}

/** A fresh browser context: one per user, or the IdP's session cookie signs in the wrong one. */
export function newUserContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ locale: 'en-US' });
}

type IdpState = 'sign-in' | 'consent' | 'error' | 'done';

const SETTLE_TIMEOUT_MS = 15_000;

async function visible(locator: Locator): Promise<boolean> {
  // isVisible does not wait; during a navigation it can throw, which means "not yet".
  return locator.isVisible().catch(() => false);
}

/**
 * Waits until the page shows something a user would act on. The IdP is served over https
 * and the app's loopback redirect over http, so an http page means the IdP is done; so is
 * the IdP's own status page at the end of a device sign-in.
 */
async function settle(page: Page): Promise<IdpState> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (new URL(page.url()).protocol === 'http:') return 'done';
    if (await visible(page.getByRole('alert'))) return 'error';
    if (await visible(page.getByLabel('Username'))) return 'sign-in';
    if (await visible(page.getByRole('heading', { name: 'Permissions requested' })))
      return 'consent';
    if (await visible(page.getByRole('status'))) return 'done';
    await page.waitForTimeout(50);
  }
  throw new Error(
    `The IdP page did not settle within ${SETTLE_TIMEOUT_MS} ms: "${await page.title()}" at ${page.url()}`,
  );
}

/** Clicks a button that submits a form and waits for the next document to load. */
async function submit(page: Page, button: Locator): Promise<void> {
  const loaded = page.waitForEvent('load');
  await button.click();
  await loaded;
}

async function fail(page: Page): Promise<never> {
  throw new Error(`The IdP showed an error: ${await page.getByRole('alert').innerText()}`);
}

/** What the IdP showed during `signInAtIdp`. */
export interface IdpVisit {
  /** Whether the sign-in page was shown (not when a session cookie signed the user in). */
  signedIn: boolean;
  /** Scopes listed on the consent page, or undefined when there was none. */
  consentScopes?: string[];
}

/**
 * Drives the IdP from wherever `page` is (sign-in page, consent page, or already done):
 * signs in as `user` when asked, answers the consent page as told, and returns once the
 * IdP has handed control back to the app.
 */
export async function signInAtIdp(
  page: Page,
  user: IdpCredentials,
  options: { consent?: ConsentAnswer } = {},
): Promise<IdpVisit> {
  const visit: IdpVisit = { signedIn: false };
  let state = await settle(page);
  if (state === 'sign-in') {
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    // The sign-in page stays put until the next document replaces it.
    await submit(page, page.getByRole('button', { name: 'Sign in' }));
    visit.signedIn = true;
    state = await settle(page);
  }
  if (state === 'error') await fail(page);
  if (state === 'sign-in') throw new Error('The IdP asked to sign in again.');
  const answer = options.consent;
  if (state === 'consent') {
    if (answer === false)
      throw new Error('The IdP asked for consent, but the test expected it not to.');
    visit.consentScopes = await page
      .locator('[data-scope]')
      .evaluateAll((items) => items.map((item) => item.getAttribute('data-scope') ?? ''));
    await submit(
      page,
      page.getByRole('button', { name: answer === 'cancel' ? 'Cancel' : 'Accept' }),
    );
    state = await settle(page);
    if (state === 'error') await fail(page);
  } else if (answer === true || answer === 'cancel') {
    throw new Error(`Expected the consent page, got "${await page.title()}" at ${page.url()}.`);
  }
  return visit;
}

/** Completes a device code sign-in in the browser: enters the code, confirms, signs in, consents. */
export async function completeDeviceCode(
  page: Page,
  verificationUri: string,
  userCode: string,
  user: IdpCredentials,
  options: { consent?: ConsentAnswer } = {},
): Promise<IdpVisit> {
  await page.goto(verificationUri);
  await page.getByLabel('Code').fill(userCode);
  await submit(page, page.getByRole('button', { name: 'Next' }));
  await submit(page, page.getByRole('button', { name: 'Continue' }));
  return signInAtIdp(page, user, options);
}
