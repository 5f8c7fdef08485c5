import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpEndpoint } from '../../../main/core/endpoint/mcp-endpoint.ts';
import { KeyStore } from '../../../main/core/keys/key-store.ts';
import { TOOL_NAMES } from '../../../main/core/mcp/tool-definition.ts';
import type { RateLimits } from '../../../main/core/policy/policy-schema.ts';
import { RateLimiter } from '../../../main/core/ratelimit/rate-limiter.ts';
import { within } from '../../support/within.ts';
import {
  messagesOf,
  openRawSession,
  rawRequest,
  startRequest,
  toolCall,
  waitFor,
  type RawResponse,
} from './raw-http.ts';

/**
 * The endpoint with a stand-in MCP server whose tools wait: `wait_for_hangup` until the
 * request's `closed` signal fires, `wait_for_release` until the test lets it go (ignoring
 * the signal, like a call that cannot be stopped at once).
 */
const started: string[] = [];
const aborted: string[] = [];
const releases: Array<() => void> = [];
let endpoint: McpEndpoint;
let keys: KeyStore;
let secret: string;
const limits: RateLimits = {
  requestsPerMinute: 6_000,
  burst: 1_000,
  concurrentPerKey: 2,
  concurrentTotal: 50,
};

function standIn(): McpServer {
  const server = new McpServer({ name: 'stand-in', version: '1' });
  server.registerTool(
    'wait_for_hangup',
    { description: 'waits for the client to hang up' },
    (extra) => {
      const closed = extra.authInfo?.extra?.closed as AbortSignal | undefined;
      started.push(String(extra.requestId));
      return new Promise((resolve) => {
        closed?.addEventListener('abort', () => {
          aborted.push(String(extra.requestId));
          resolve({ content: [{ type: 'text', text: 'aborted' }] });
        });
      });
    },
  );
  server.registerTool('wait_for_release', { description: 'waits for the test' }, (extra) => {
    started.push(String(extra.requestId));
    return new Promise((resolve) =>
      releases.push(() => resolve({ content: [{ type: 'text', text: 'done' }] })),
    );
  });
  server.registerTool('quick', { description: 'answers at once' }, (extra) => {
    const closed = extra.authInfo?.extra?.closed as AbortSignal | undefined;
    return { content: [{ type: 'text', text: `closed:${String(closed?.aborted)}` }] };
  });
  return server;
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'valet-in-flight-'));
  keys = new KeyStore(dir);
  secret = (
    await keys.create({ name: 'waiter', tools: [...TOOL_NAMES], readOnly: false, account: null })
  ).secret;
  endpoint = new McpEndpoint({
    port: 0,
    keys,
    limiter: new RateLimiter(() => limits),
    createServer: standIn,
  });
  await endpoint.start();
});

afterAll(async () => {
  await endpoint?.close();
});

const auth = () => ({ authorization: `Bearer ${secret}` });

describe('a client that hangs up', () => {
  it('aborts the request’s closed signal (authInfo.extra.closed) when the client hangs up mid-call', async () => {
    const sessionId = await openRawSession(endpoint.url, secret);
    const call = startRequest(endpoint.url, {
      headers: { ...auth(), 'mcp-session-id': sessionId },
      body: toolCall('hangup-1', 'wait_for_hangup'),
    });
    expect((await call.headers).status).toBe(200);
    await waitFor(() => started.includes('hangup-1'), 'the tool to start');
    expect(aborted).not.toContain('hangup-1');
    call.request.destroy();
    await waitFor(() => aborted.includes('hangup-1'), 'the closed signal to abort', 2_000);
  });

  it('leaves the closed signal alone for a call that is answered', async () => {
    const sessionId = await openRawSession(endpoint.url, secret);
    const res = await rawRequest(endpoint.url, {
      headers: { ...auth(), 'mcp-session-id': sessionId },
      body: toolCall(7, 'quick'),
    });
    expect(res.body).toContain('closed:false');
  });

  it('keeps counting a call against the key’s in-flight cap after its client hung up, until the call ends', async () => {
    const sessionId = await openRawSession(endpoint.url, secret);
    const headers = { ...auth(), 'mcp-session-id': sessionId };
    for (const id of ['held-1', 'held-2']) {
      const call = startRequest(endpoint.url, {
        headers,
        body: toolCall(id, 'wait_for_release'),
      });
      await waitFor(() => started.includes(id), `${id} to start`);
      call.request.destroy();
    }
    // Both calls still run: a third request from the key is over its cap of 2.
    await new Promise((r) => setTimeout(r, 100));
    const refused = await rawRequest(endpoint.url, { headers, body: toolCall(3, 'quick') });
    expect(refused.status).toBe(429);
    expect(refused.body).toContain("valet key 'waiter' has too many requests in flight");
    // Once they end, the key has its slots back.
    for (const release of releases.splice(0)) release();
    await new Promise((r) => setTimeout(r, 50));
    expect((await rawRequest(endpoint.url, { headers, body: toolCall(4, 'quick') })).status).toBe(
      200,
    );
  });
});

const idsAnswered = (res: RawResponse) => messagesOf(res).map((m) => m.id);

describe('duplicate JSON-RPC ids in one session', () => {
  /** A session of a key of its own, so that a test that fails leaves the others their slots. */
  async function session() {
    const { secret: own } = await keys.create({
      name: `ids-${Math.random().toString(36).slice(2, 8)}`,
      tools: [...TOOL_NAMES],
      readOnly: false,
      account: null,
    });
    const sessionId = await openRawSession(endpoint.url, own);
    return { authorization: `Bearer ${own}`, 'mcp-session-id': sessionId };
  }

  it('refuses a request whose id is already in flight, naming the id, and still answers the first', async () => {
    const headers = await session();
    const first = startRequest(endpoint.url, {
      headers,
      body: toolCall(5, 'wait_for_release'),
    });
    await waitFor(() => started.includes('5'), 'the first call to start');
    const second = await within(
      rawRequest(endpoint.url, { headers, body: toolCall(5, 'quick') }),
      'answer to the second request',
      2_000,
    );
    expect(second.status).toBe(400);
    const error = JSON.parse(second.body).error;
    expect(error.code).toBe(-32600);
    expect(error.message).toBe(
      'Invalid request: request id 5 is already in flight in this session; give each request its own id',
    );
    releases.splice(0).forEach((release) => release());
    const answered = await within(first.response, 'answer to the first request', 2_000);
    expect(idsAnswered(answered)).toEqual([5]);
    expect(answered.body).toContain('done');
  });

  it('refuses a single request whose id is in flight in an earlier batch, and answers the batch', async () => {
    const headers = await session();
    const batch = startRequest(endpoint.url, {
      headers,
      body: `[${toolCall('b-1', 'wait_for_release')},${toolCall('b-2', 'quick')}]`,
    });
    await waitFor(() => started.includes('b-1'), 'the batch to start');
    const single = await within(
      rawRequest(endpoint.url, { headers, body: toolCall('b-1', 'quick') }),
      'answer to the single request',
      2_000,
    );
    expect(single.status).toBe(400);
    expect(JSON.parse(single.body).error.message).toContain(
      'request id "b-1" is already in flight',
    );
    releases.splice(0).forEach((release) => release());
    const answered = await within(batch.response, 'answer to the batch', 2_000);
    expect(idsAnswered(answered).sort()).toEqual(['b-1', 'b-2']);
  });

  it('refuses a batch that repeats an id in flight, and one that repeats an id within itself', async () => {
    const headers = await session();
    const first = startRequest(endpoint.url, {
      headers,
      body: toolCall(42, 'wait_for_release'),
    });
    await waitFor(() => started.includes('42'), 'the first call to start');
    const batch = await within(
      rawRequest(endpoint.url, {
        headers,
        body: `[${toolCall(43, 'quick')},${toolCall(42, 'quick')}]`,
      }),
      'answer to the batch',
      2_000,
    );
    expect(batch.status).toBe(400);
    expect(JSON.parse(batch.body).error.message).toContain('request id 42 is already in flight');
    const twice = await within(
      rawRequest(endpoint.url, {
        headers,
        body: `[${toolCall(44, 'quick')},${toolCall(44, 'quick')}]`,
      }),
      'answer to the batch with a repeated id',
      2_000,
    );
    expect(twice.status).toBe(400);
    expect(JSON.parse(twice.body).error.message).toBe(
      'Invalid request: request id 44 appears twice in this batch; give each request its own id',
    );
    releases.splice(0).forEach((release) => release());
    expect(idsAnswered(await within(first.response, 'answer to the first', 2_000))).toEqual([42]);
    // Refused requests left nothing behind: the ids are free again.
    const again = await rawRequest(endpoint.url, {
      headers,
      body: `[${toolCall(43, 'quick')},${toolCall(44, 'quick')}]`,
    });
    expect(idsAnswered(again).sort()).toEqual([43, 44]);
  });

  it('lets a client reuse an id once its request was answered', async () => {
    const headers = await session();
    for (let i = 0; i < 3; i++) {
      const res = await rawRequest(endpoint.url, { headers, body: toolCall(1, 'quick') });
      expect(idsAnswered(res)).toEqual([1]);
    }
  });
});
