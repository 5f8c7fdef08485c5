import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { McpEndpoint, type EndpointEvents } from '../../../main/core/endpoint/mcp-endpoint.ts';
import { KeyStore } from '../../../main/core/keys/key-store.ts';
import { TOOL_NAMES } from '../../../main/core/mcp/tool-definition.ts';
import { rawRequest, type RawRequestOptions } from './raw-http.ts';

type Refusal = Parameters<NonNullable<EndpointEvents['onRejected']>>[0];

const refusals: Refusal[] = [];
let endpoint: McpEndpoint;
let keys: KeyStore;
let secret: string;

function standIn(): McpServer {
  const server = new McpServer({ name: 'stand-in', version: '1' });
  server.registerTool('quick', { description: 'answers at once' }, () => ({
    content: [{ type: 'text', text: 'ok' }],
  }));
  return server;
}

const newKey = async (name: string) =>
  (await keys.create({ name, tools: [...TOOL_NAMES], readOnly: false, account: null })).secret;

beforeAll(async () => {
  keys = new KeyStore(await mkdtemp(join(tmpdir(), 'valet-guards-')));
  secret = await newKey('guards');
  endpoint = new McpEndpoint({
    port: 0,
    keys,
    createServer: standIn,
    onRejected: (e) => refusals.push(e),
  });
  await endpoint.start();
});

afterAll(async () => {
  await endpoint?.close();
});

beforeEach(() => {
  refusals.length = 0;
});

const port = () => new URL(endpoint.url).port;
const send = (options: RawRequestOptions) =>
  rawRequest(endpoint.url, {
    ...options,
    headers: { authorization: `Bearer ${secret}`, ...options.headers },
  });

describe('Origin', () => {
  it('accepts an Origin equal to the request’s own Host (http://127.0.0.1:<port>, localhost, [::1])', async () => {
    for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`, `[::1]:${port()}`]) {
      const res = await send({ headers: { host, origin: `http://${host}` } });
      expect(res.status, `${host}: ${res.body}`).toBe(200);
    }
  });

  it('refuses every other Origin: another loopback name, port or scheme, null, a path, any site', async () => {
    const host = `127.0.0.1:${port()}`;
    for (const origin of [
      `http://localhost:${port()}`,
      `http://[::1]:${port()}`,
      `http://127.0.0.1:${Number(port()) + 1}`,
      'http://127.0.0.1',
      `https://127.0.0.1:${port()}`,
      `HTTP://127.0.0.1:${port()}`,
      `http://127.0.0.1:${port()}/`,
      `http://127.0.0.1:${port()}.evil.example`,
      'null',
      '',
      'https://evil.example',
    ]) {
      const res = await send({ headers: { host, origin } });
      expect(res.status, origin).toBe(403);
      expect(JSON.parse(res.body).error.message).toBe(
        'Forbidden: requests from web pages are not allowed',
      );
    }
    const other = await send({
      headers: { host: `localhost:${port()}`, origin: `http://127.0.0.1:${port()}` },
    });
    expect(other.status).toBe(403);
  });
});

describe('refusals name their Origin', () => {
  it('passes the request’s Origin to onRejected for each kind of refusal', async () => {
    const own = `http://127.0.0.1:${port()}`;
    await send({ headers: { host: 'evil.example', origin: 'https://evil.example' } });
    await send({ headers: { origin: 'https://page.example' } });
    await rawRequest(endpoint.url, { headers: { origin: own } });
    await send({ headers: { origin: own }, path: '/elsewhere' });
    await send({ headers: { origin: own }, body: '{"jsonrpc":' });
    await send({ headers: { origin: own, 'content-type': 'text/plain' } });
    await send({ headers: { origin: own, 'mcp-session-id': 'no-such-session' } });
    expect(refusals.map((r) => [r.reason, r.status, r.origin])).toEqual([
      ['host', 403, 'https://evil.example'],
      ['origin', 403, 'https://page.example'],
      ['missing', 401, own],
      ['path', 404, own],
      ['parse', 400, own],
      ['media-type', 415, own],
      ['session', 404, own],
    ]);
  });

  it('leaves origin out when the request sent none, and cuts a long one to 200 characters', async () => {
    await rawRequest(endpoint.url, {});
    const long = `https://${'a'.repeat(10_000)}.example`;
    await send({ headers: { origin: long } });
    expect(refusals).toHaveLength(2);
    expect(refusals[0]).not.toHaveProperty('origin');
    expect(refusals[1]!.origin).toBe(long.slice(0, 200));
  });
});
