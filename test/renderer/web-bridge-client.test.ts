import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEventDto } from '../../preload/contract.ts';
import { AppApiError } from '../../renderer/src/api/app-api-error.ts';
import { createWebBridgeClient } from '../../renderer/src/api/web-bridge-client.ts';

const TOKEN = 'session-token-of-this-tab';
let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
  server = undefined;
});

/** A stand-in for the web bridge that hands each request to `route`. */
async function standIn(route: (req: IncomingMessage, res: ServerResponse) => void) {
  server = createServer(route);
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', () => ok()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const event = (n: number): AppEventDto => ({
  type: 'approval-decided',
  id: `a${n}`,
  outcome: 'ok',
});

describe('the web bridge client', () => {
  it('sends the session token in the Authorization header of calls, never a cookie', async () => {
    const seen: IncomingMessage['headers'][] = [];
    const base = await standIn((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: { keys: 'listed' } }));
    });
    const api = createWebBridgeClient({ token: TOKEN }, base);
    expect(await api.listKeys({})).toEqual({ keys: 'listed' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
    });
    expect(seen[0]!.cookie).toBeUndefined();
  });

  it('without a session, fails every call with the reason and sends nothing', async () => {
    let requests = 0;
    const base = await standIn((_req, res) => (requests++, res.end()));
    const problem = { code: 'link_used', message: 'This link to MCP Valet was already used' };
    const api = createWebBridgeClient({ problem }, base);
    const failed = await api.getStatus({}).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(AppApiError);
    expect(failed).toMatchObject({ code: 'link_used', message: problem.message });
    const unsubscribe = api.subscribe(() => {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    unsubscribe();
    expect(requests).toBe(0);
  });

  it('reads events from the stream with the session token, and reconnects when the stream drops', async () => {
    const streams: IncomingMessage['headers'][] = [];
    const base = await standIn((req, res) => {
      streams.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const n = streams.length;
      const text = `: connected\n\ndata: ${JSON.stringify(event(n))}\n\n`;
      // The event arrives in two pieces; the first stream then drops, the second stays open.
      res.write(text.slice(0, text.length - 7));
      setTimeout(() => {
        res.write(text.slice(text.length - 7));
        if (n === 1) setTimeout(() => res.destroy(), 20);
      }, 20);
    });
    const api = createWebBridgeClient({ token: TOKEN }, base);
    const received: AppEventDto[] = [];
    const unsubscribe = api.subscribe((e) => received.push(e));
    await expect.poll(() => received.length, { timeout: 5_000 }).toBe(2);
    expect(received).toEqual([event(1), event(2)]);
    for (const headers of streams) {
      expect(headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(headers.cookie).toBeUndefined();
    }
    unsubscribe();
    // Unsubscribing ends the stream: the bridge sees its connection close.
    const open = () =>
      new Promise<number>((resolve) => server!.getConnections((_err, n) => resolve(n)));
    await expect.poll(open, { timeout: 5_000 }).toBe(0);
  });

  it('stops following the stream when the bridge refuses the session', async () => {
    let requests = 0;
    const base = await standIn((_req, res) => {
      requests++;
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"unauthorized","message":"no session"}}');
    });
    const unsubscribe = createWebBridgeClient({ token: TOKEN }, base).subscribe(() => {});
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    unsubscribe();
    expect(requests).toBe(1);
  });
});
