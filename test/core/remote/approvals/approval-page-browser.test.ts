import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { launchBrowser, newUserContext } from '../../../support/browser.ts';
import {
  ADELE,
  ask,
  mail,
  startApprovalHarness,
  type ApprovalHarness,
} from '../../../support/remote-approvals.ts';
import { within } from '../../../support/within.ts';

let browser: Browser;
let h: ApprovalHarness;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser.close();
});

beforeEach(async () => {
  h = await startApprovalHarness();
});

afterEach(async () => {
  await h.close();
});

it('in Chromium, clicking #approve on instance B’s page lets the call waiting on instance A run', async () => {
  const call = ask(h.a, mail('Q3 numbers'));
  let id: string | undefined;
  for (let i = 0; i < 200 && !id; i++) {
    id = (await h.b.approvals.listFor(ADELE.oid))[0]?.id;
    if (!id) await new Promise((r) => setTimeout(r, 5));
  }
  const { cookie } = await h.signIn(ADELE);
  const [name, value] = cookie.split('=') as [string, string];
  const context = await newUserContext(browser);
  try {
    await context.addCookies([{ name, value, url: h.url }]);
    const page = await context.newPage();
    await page.goto(`${h.url}/approvals/${id}`);
    expect(await page.textContent('#tool')).toBe('send_mail');
    expect(await page.textContent('#summary')).toContain('Q3 numbers');
    await page.click('#approve');
    await page.waitForSelector('#status');
    expect(await page.textContent('#status')).toContain('Approved once');
    expect(await page.locator('#approve').count()).toBe(0);
    await expect(within(call.outcome, 'the end of the call', 3_000)).resolves.toBe('approved');
  } finally {
    await context.close();
  }
});
