import { mkdtemp } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { McpEndpoint, type EndpointEvents } from '../../../main/core/endpoint/mcp-endpoint.ts';
import { KeyStore } from '../../../main/core/keys/key-store.ts';
import { within } from '../../support/within.ts';
import { TOOL_NAMES } from '../../../main/core/mcp/tool-definition.ts';
import {
  openRawSession,
  rawRequest,
  startRequest,
  toolCall,
  waitFor,
  type RawRequestOptions,
} from './raw-http.ts';

type Refusal = Parameters<NonNullable<EndpointEvents['onRejected']>>[0];

const refusals: Refusal[] = [];
const releases: Array<() => void> = [];
let endpoint: McpEndpoint;
let keys: KeyStore;
let secret: string;

function standIn(): McpServer {
  const server = new McpServer({ name: 'stand-in', version: '1' });
  server.registerTool('quick', { description: 'answers at once' }, () => ({
    content: [{ type: 'text', text: 'ok' }],
  }));
  server.registerTool('wait_for_release', { description: 'waits for the test' }, () => {
    return new Promise((resolve) =>
      releases.push(() => resolve({ content: [{ type: 'text', text: 'done' }] })),
    );
  });
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

/** An endpoint of the stand-in server with its own session options; closed after the file. */
async function endpointWith(options: {
  maxSessionsPerKey?: number;
  idleTimeoutMs?: number;
  requestTimeoutMs?: number;
}) {
  const other = new McpEndpoint({ port: 0, keys, createServer: standIn, ...options });
  await other.start();
  opened.push(other);
  return other;
}
const opened: McpEndpoint[] = [];
afterAll(async () => {
  await Promise.all(opened.map((e) => e.close()));
});

/** The HTTP status a session answers a tools/call with: 200 while it lives, 404 once closed. */
async function statusOf(url: string, key: string, sessionId: string, id = 50): Promise<number> {
  const res = await rawRequest(url, {
    headers: { authorization: `Bearer ${key}`, 'mcp-session-id': sessionId },
    body: toolCall(id, 'quick'),
  });
  return res.status;
}

describe('sessions per key', () => {
  it('closes the least recently used session of a key that opens more than maxSessionsPerKey, and leaves other keys alone', async () => {
    const capped = await endpointWith({ maxSessionsPerKey: 3 });
    const a = await newKey('many-sessions');
    const b = await newKey('one-session');
    const other = await openRawSession(capped.url, b);
    const [s1, s2, s3] = [
      await openRawSession(capped.url, a),
      await openRawSession(capped.url, a),
      await openRawSession(capped.url, a),
    ] as [string, string, string];
    // s1 is used again, so s2 is now the one used least recently.
    expect(await statusOf(capped.url, a, s1)).toBe(200);
    const s4 = await openRawSession(capped.url, a);
    expect(await statusOf(capped.url, a, s2)).toBe(404);
    for (const s of [s1, s3, s4]) expect(await statusOf(capped.url, a, s)).toBe(200);
    expect(await statusOf(capped.url, b, other)).toBe(200);
    expect(capped.sessionCount).toBe(4);
  });

  it('closes an idle session rather than one with a call in flight', async () => {
    const capped = await endpointWith({ maxSessionsPerKey: 2 });
    const a = await newKey('busy-sessions');
    const busy = await openRawSession(capped.url, a);
    const idle = await openRawSession(capped.url, a);
    const call = startRequest(capped.url, {
      headers: { authorization: `Bearer ${a}`, 'mcp-session-id': busy },
      body: toolCall(1, 'wait_for_release'),
    });
    await waitFor(() => releases.length === 1, 'the call to start');
    // The busy session was used first, but its call is still running.
    await openRawSession(capped.url, a);
    expect(await statusOf(capped.url, a, idle)).toBe(404);
    releases.splice(0).forEach((release) => release());
    expect((await call.response).body).toContain('done');
    expect(await statusOf(capped.url, a, busy, 2)).toBe(200);
  });

  it('by default holds at most 32 sessions per key', async () => {
    const a = await newKey('default-cap');
    const sessions: string[] = [];
    for (let i = 0; i < 33; i++) sessions.push(await openRawSession(endpoint.url, a));
    expect(await statusOf(endpoint.url, a, sessions[0]!)).toBe(404);
    expect(await statusOf(endpoint.url, a, sessions[1]!)).toBe(200);
    expect(await statusOf(endpoint.url, a, sessions[32]!)).toBe(200);
  });
});

describe('idle sessions', () => {
  it('closes a session idle for idleTimeoutMs, but not one that holds its event stream open', async () => {
    const short = await endpointWith({ idleTimeoutMs: 300 });
    const a = await newKey('idle');
    const idle = await openRawSession(short.url, a);
    const listening = await openRawSession(short.url, a);
    const stream = startRequest(short.url, {
      method: 'GET',
      headers: {
        authorization: `Bearer ${a}`,
        'mcp-session-id': listening,
        accept: 'text/event-stream',
      },
    });
    try {
      expect((await within(stream.headers, 'event stream', 2_000)).status).toBe(200);
      await waitFor(() => short.sessionCount < 2, 'a session to close', 3_000);
      expect(await statusOf(short.url, a, idle)).toBe(404);
      expect(await statusOf(short.url, a, listening)).toBe(200);
    } finally {
      stream.request.destroy();
    }
  });
});

describe('stalled requests', () => {
  it('closes the connection of a client that stops in the middle of its body, within requestTimeoutMs', async () => {
    const strict = await endpointWith({ requestTimeoutMs: 400 });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
    const socket = connect(Number(new URL(strict.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // The headers promise a whole body; only its first half ever comes.
    socket.write(
      `POST /mcp HTTP/1.1\r\nHost: ${new URL(strict.url).host}\r\nAuthorization: Bearer ${secret}\r\n` +
        `Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body.slice(0, body.length / 2)}`,
    );
    await within(closed, 'the stalled connection to be closed', 5_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('send the whole request within 0.4 s');
  });
});
