import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../main/core/audit/audit-types.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { launchBrowser } from '../../support/browser.ts';
import { useValet } from '../../support/valet.ts';
import { auditRecords } from '../../support/audit-records.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, {});

let browser: Browser | undefined;
let pageServer: Server | undefined;
afterAll(async () => {
  await browser?.close();
  pageServer?.close();
});

function refusals(reason: string): Promise<AuditRecord[]> {
  return auditRecords(
    fx.valet.core.audit.dir,
    (r) => r.type === 'endpoint_rejected' && r.details?.reason === reason,
  );
}

const total = (records: AuditRecord[]) =>
  records.reduce((n, r) => n + Number(r.details?.count ?? 1), 0);

/** Counts the refusals the endpoint reports live (one event per request). */
function countRefused(reason: string): { readonly n: number } {
  const counter = { n: 0 };
  fx.valet.core.on('endpoint-rejected', (e) => {
    if (e.reason === reason) counter.n++;
  });
  return counter;
}

/** Waits until the records' counts reach what was refused: the last window is written when it ends. */
async function settled(reason: string, refused: number): Promise<AuditRecord[]> {
  for (let i = 0; i < 50; i++) {
    const records = await refusals(reason);
    if (total(records) >= refused) return records;
    await new Promise((r) => setTimeout(r, 100));
  }
  return refusals(reason);
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>flood</title><script>
window.flood = async (url, ms) => {
  const end = performance.now() + ms;
  const open = new Set();
  let sent = 0;
  while (performance.now() < end) {
    const p = fetch(url, { method: 'POST', mode: 'no-cors', body: '{}' })
      .catch(() => undefined)
      .finally(() => open.delete(p));
    open.add(p);
    sent++;
    if (open.size >= 64) await Promise.race(open);
  }
  await Promise.all(open);
  return sent;
};
</script>`;

describe('floods of refused requests in the audit log', () => {
  it('writes about one record a second for thousands of requests with no key, and the counts add up to what was refused', async () => {
    const refused = countRefused('missing');
    const url = new URL(fx.valet.endpoint.url);
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const send = () =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          {
            agent,
            host: '127.0.0.1',
            port: url.port,
            method: 'POST',
            path: '/mcp',
            headers: { host: url.host, 'content-type': 'application/json' },
          },
          (res) => res.resume().on('end', resolve),
        );
        req.on('error', reject);
        req.end('{}');
      });
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next++ < 3_000) await send();
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    agent.destroy();
    expect(refused.n).toBe(3_000);
    const records = await settled('missing', refused.n);
    expect(total(records)).toBe(refused.n);
    expect(records.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect(records.every((r) => r.details?.source === 'no origin')).toBe(true);
  });

  it('bounds the records of a no-cors flood from a web page in Chromium by about one a second', async () => {
    pageServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    });
    await new Promise<void>((resolve) => pageServer!.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
    const refused = countRefused('origin');
    browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    const started = Date.now();
    const sent = await page.evaluate(
      ([url, ms]) =>
        (window as unknown as { flood: (u: string, m: number) => Promise<number> }).flood(url, ms),
      [fx.valet.endpoint.url, 5_000] as const,
    );
    const seconds = (Date.now() - started) / 1000;
    expect(sent).toBeGreaterThan(1_000);
    expect(refused.n).toBe(sent);
    const records = await settled('origin', refused.n);
    expect(total(records)).toBe(refused.n);
    expect(records.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect(records.every((r) => r.details?.source === origin)).toBe(true);
  });
});
