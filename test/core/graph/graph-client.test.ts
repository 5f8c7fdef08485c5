import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  GraphClient,
  type GraphClientOptions,
  type GraphRequest,
} from '../../../main/core/graph/graph-client.ts';
import { GraphError } from '../../../main/core/graph/graph-errors.ts';
import { StoreGraphThrottle } from '../../../main/core/remote/graph-backoff.ts';
import { MemoryStore } from '../../../main/core/remote/store/memory-store.ts';
import { startGraphStandIn } from '../../../main/demo/graph/index.ts';
import type { GraphUser, RunningGraph } from '../../../main/demo/graph/index.ts';
import { offlineFetch } from '../../support/offline-fetch.ts';

// The client against the real Graph stand-in over HTTP. Tokens are signed here with a key
// the stand-in trusts, as the stand-in's own test does, so no IdP or browser is needed.
const ISSUER = 'https://localhost:44300/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0';
const ADELE: GraphUser = {
  id: '6e7b768e-07e2-4810-8459-485f84f8f204',
  username: 'adele@contoso.test',
  name: 'Adele Vance',
};
const ALL_SCOPES = 'User.Read Mail.Read Mail.Send Calendars.ReadWrite Files.Read People.Read';
/** Small budgets keep the file fast; the delays under test are still real. */
const FAST_RETRY = { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 200, budgetMs: 1_000 };

let privateKey: CryptoKey;
let graph: RunningGraph;

async function token(
  claims: { scp?: string; aud?: string; expiresIn?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ oid: ADELE.id, scp: claims.scp ?? ALL_SCOPES, tid: 'tenant' })
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(claims.aud ?? 'https://graph.microsoft.com')
    .setIssuedAt(now - 120)
    .setNotBefore(now - 120)
    .setExpirationTime(now + (claims.expiresIn ?? 3600))
    .sign(privateKey);
}

function client(options: Partial<GraphClientOptions> = {}): GraphClient {
  // A fixed jitter makes the backoff schedule exact.
  return new GraphClient({
    baseUrl: graph.url,
    timeoutMs: 2_000,
    retry: FAST_RETRY,
    random: () => 1,
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<GraphError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraphError);
  return err as GraphError;
}

/** A loopback port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const seen = (method: string, path: string) =>
  graph.requests.filter((r) => r.method === method && r.path === path);

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  graph = await startGraphStandIn({
    issuer: ISSUER,
    keys: { jwks: { keys: [jwk] } },
    users: [ADELE],
  });
});

afterEach(() => {
  graph.clearFaults();
  graph.requests.length = 0;
});

afterAll(async () => {
  await graph?.close();
});

describe('GraphClient', () => {
  it('returns the data, the request-id Graph sent and the attempt count', async () => {
    const res = await client().request<{ mail: string }>({
      path: '/me',
      token: await token(),
      scopes: ['User.Read'],
    });
    expect(res).toMatchObject({ status: 200, data: { mail: ADELE.username }, attempts: 1 });
    expect(res.requestId).toBe(seen('GET', '/v1.0/me')[0]?.requestId);
  });

  it('honours Retry-After on a 429: the retry arrives no sooner than 2 s later', async () => {
    graph.inject({ path: '/v1.0/me', status: 429, retryAfterSeconds: 2 });
    const res = await client({ retry: { ...FAST_RETRY, budgetMs: 5_000 } }).request({
      path: '/me',
      token: await token(),
      scopes: ['User.Read'],
    });
    expect(res.attempts).toBe(2);
    const [first, second] = seen('GET', '/v1.0/me');
    expect([first?.status, second?.status]).toEqual([429, 200]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2_000);
  });

  it('gives up at once when Retry-After would overrun the budget', async () => {
    graph.inject({ path: '/v1.0/me', status: 429, retryAfterSeconds: 30 });
    const started = Date.now();
    const err = await failure(
      client().request({ path: '/me', token: await token(), scopes: ['User.Read'] }),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err.code).toBe('graph_throttled');
    expect(err.message).toContain('asks to wait 30 s');
    expect(seen('GET', '/v1.0/me')).toHaveLength(1);
  });

  it('ends a 503 storm within the budget with graph_unavailable', async () => {
    graph.inject({ path: '/v1.0/me', status: 503, times: Infinity });
    const started = Date.now();
    const err = await failure(
      client().request({ path: '/me', token: await token(), scopes: ['User.Read'] }),
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(FAST_RETRY.budgetMs + 500);
    expect(err.code).toBe('graph_unavailable');
    expect(err.status).toBe(503);
    // Backoff 50, 100, 200, 200… ms: several attempts fit in the budget, then it stops.
    const attempts = seen('GET', '/v1.0/me').length;
    expect(attempts).toBeGreaterThan(3);
    expect(err.message).toMatch(
      new RegExp(
        `unavailable \\(HTTP 503, serviceNotAvailable\\) after ${attempts} attempts over \\d+\\.\\d s: try again later`,
      ),
    );
  });

  it('does not retry a 503 on a POST, which may have taken effect', async () => {
    graph.inject({ method: 'POST', path: '/v1.0/me/sendMail', status: 503, times: Infinity });
    const request: GraphRequest = {
      method: 'POST',
      path: '/me/sendMail',
      body: {
        message: {
          subject: 'Hi',
          body: { content: 'x' },
          toRecipients: [{ emailAddress: { address: 'ben@contoso.test' } }],
        },
      },
      token: await token(),
      scopes: ['Mail.Send'],
    };
    const err = await failure(client().request(request));
    expect(err.code).toBe('graph_unavailable');
    expect(seen('POST', '/v1.0/me/sendMail')).toHaveLength(1);
  });

  it('retries a 429 on a POST, which Graph did not process, and sends the mail once', async () => {
    graph.inject({ method: 'POST', path: '/v1.0/me/sendMail', status: 429, retryAfterSeconds: 0 });
    const res = await client().request({
      method: 'POST',
      path: '/me/sendMail',
      body: {
        message: {
          subject: 'Retry me',
          body: { content: 'x' },
          toRecipients: [{ emailAddress: { address: 'ben@contoso.test' } }],
        },
      },
      token: await token(),
      scopes: ['Mail.Send'],
    });
    expect(res).toMatchObject({ status: 202, attempts: 2 });
    expect(seen('POST', '/v1.0/me/sendMail').map((r) => r.status)).toEqual([429, 202]);
  });

  it('explains a 401 with the sign-in fix, without the token', async () => {
    const bad = await token({ aud: 'api://someone-else' });
    const err = await failure(client().request({ path: '/me', token: bad, scopes: ['User.Read'] }));
    expect(err).toMatchObject({
      code: 'graph_unauthorized',
      status: 401,
      graphCode: 'InvalidAuthenticationToken',
    });
    expect(err.message).toBe(
      'Microsoft Graph rejected the sign-in (InvalidAuthenticationToken): sign in again with `mcp-valet login` or from the app',
    );
    expect(err.message).not.toContain(bad);
  });

  it('explains a 403 by naming the scope and the login command', async () => {
    const err = await failure(
      client().request({
        path: '/me/messages',
        token: await token({ scp: 'User.Read' }),
        scopes: ['Mail.Read'],
      }),
    );
    expect(err).toMatchObject({
      code: 'graph_forbidden',
      status: 403,
      graphCode: 'ErrorAccessDenied',
    });
    expect(err.message).toBe(
      'Microsoft Graph denied access (ErrorAccessDenied): this needs Mail.Read; run `mcp-valet login --scopes Mail.Read` or ask your admin to grant it',
    );
    expect(err.requestId).toBe(seen('GET', '/v1.0/me/messages')[0]?.requestId);
  });

  it("explains a 404 with Graph's own reason", async () => {
    const err = await failure(
      client().request({
        path: `/me/messages/${encodeURIComponent('AAMkAnone=')}`,
        token: await token(),
        scopes: ['Mail.Read'],
      }),
    );
    expect(err).toMatchObject({ code: 'graph_not_found', status: 404 });
    expect(err.message).toBe(
      'Not found in Microsoft Graph (ErrorItemNotFound): The specified object was not found in the store.',
    );
  });

  it('follows a nextLink on its own Graph when its path below the base is the one asked for', async () => {
    const first = await client().request<{ value: unknown[]; '@odata.nextLink': string }>({
      path: '/me/messages',
      query: { $top: 3, $select: 'id' },
      token: await token(),
      scopes: ['Mail.Read'],
    });
    const next = await client().request<{ value: unknown[] }>({
      path: first.data['@odata.nextLink'],
      linkPath: (p) => p === '/me/messages',
      token: await token(),
      scopes: ['Mail.Read'],
    });
    expect(next.data.value).toHaveLength(3);
    expect(seen('GET', '/v1.0/me/messages')).toHaveLength(2);
  });

  it('refuses a link on another host, port, scheme or path prefix without sending anything', async () => {
    const { fetch: guarded, strays } = offlineFetch([graph.url]);
    const { host, origin } = new URL(graph.url);
    for (const link of [
      'https://graph.example.net/v1.0/me/messages?$skip=3',
      `http://127.0.0.1:${await closedPort()}/v1.0/me/messages?$skip=3`,
      `${origin.replace('http:', 'https:')}/v1.0/me/messages?$skip=3`,
      `${origin}/beta/me/messages?$skip=3`,
      `${graph.url}.evil.example/me/messages`,
      `http://user@${host}@graph.example.net/v1.0/me/messages`,
      `http://user:pw@${host}/v1.0/me/messages`,
    ]) {
      const outcome = await client({ fetch: guarded })
        .request({ path: link, linkPath: () => true, token: await token(), scopes: ['Mail.Read'] })
        .then(
          () => 'followed',
          (e: unknown) => e,
        );
      // Checked first: a link that got past the guard shows here by its URL.
      expect(strays, 'links followed off our Graph').toEqual([]);
      expect(outcome, link).toBeInstanceOf(GraphError);
      const err = outcome as GraphError;
      expect(err.code, link).toBe('graph_bad_link');
      expect(err.message).toBe(
        'That page link does not belong to Microsoft Graph: use the nextPageToken returned by the previous call',
      );
    }
    expect(graph.requests).toEqual([]);
  });

  it('refuses a link that climbs out of the base path with dot segments, encoded dots or encoded slashes', async () => {
    const { fetch: guarded, strays } = offlineFetch([graph.url]);
    const { origin } = new URL(graph.url);
    for (const below of [
      '/../beta/me/messages',
      '/%2e%2e/beta/me/messages',
      '/%2E%2e/beta/me/messages',
      '/.%2E/beta/me/messages',
      '/me/%2e%2e/%2E%2E/%2e%2e/beta/me/messages',
      '/%2e%2e%2fbeta/me/messages',
      '/me%2F..%2F..%2Fbeta%2Fme/messages',
      '/me/%5c..%5c..%5cbeta/me/messages',
      '/me/..%5C..%5Cbeta/me/messages',
      '/%252e%252e/beta/me/messages',
    ]) {
      const err = await failure(
        client({ fetch: guarded }).request({
          path: `${graph.url}${below}`,
          linkPath: () => true,
          token: await token(),
          scopes: ['Mail.Read'],
        }),
      );
      expect(err.code, below).toBe('graph_bad_link');
    }
    // A backslash is a slash to the URL parser: it must not help either.
    const err = await failure(
      client({ fetch: guarded }).request({
        path: `${origin}/v1.0\\..\\beta/me/messages`,
        linkPath: () => true,
        token: await token(),
        scopes: ['Mail.Read'],
      }),
    );
    expect(err.code).toBe('graph_bad_link');
    expect(strays).toEqual([]);
    expect(graph.requests).toEqual([]);
  });

  it('refuses a path of its own that dot segments would lead out of the base URL', async () => {
    const { fetch: guarded, strays } = offlineFetch([graph.url]);
    for (const path of [
      '/../beta/me',
      '/me/messages/../../../beta/me',
      '/me/%2e%2e/%2e%2e/beta/me',
    ]) {
      const err = await failure(
        client({ fetch: guarded }).request({ path, token: await token(), scopes: ['User.Read'] }),
      );
      expect(err.code, path).toBe('graph_bad_path');
      expect(err.message).toBe(
        "That request leaves Microsoft Graph's base URL: use ids exactly as Graph returned them",
      );
    }
    expect(strays).toEqual([]);
    expect(graph.requests).toEqual([]);
  });

  it('refuses a link on its own Graph whose path is not the one the caller asked for, or with no check at all', async () => {
    const { fetch: guarded, strays } = offlineFetch([graph.url]);
    const link = `${graph.url}/users/${ADELE.id}/messages?$skip=3`;
    const err = await failure(
      client({ fetch: guarded }).request({
        path: link,
        linkPath: (p) => p === '/me/messages',
        token: await token(),
        scopes: ['Mail.Read'],
      }),
    );
    expect(err.code).toBe('graph_bad_link');
    expect(err.message).toBe(
      'That page link is not a next page of this call: use the nextPageToken returned by the previous call',
    );
    const unchecked = await failure(
      client({ fetch: guarded }).request({
        path: `${graph.url}/me/messages?$skip=3`,
        token: await token(),
        scopes: ['Mail.Read'],
      }),
    );
    expect(unchecked.code).toBe('graph_bad_link');
    expect(strays).toEqual([]);
    expect(graph.requests).toEqual([]);
  });

  it('times out a slow answer with graph_timeout', async () => {
    graph.inject({ path: '/v1.0/me', latencyMs: 1_500 });
    const started = Date.now();
    const err = await failure(
      client({ timeoutMs: 300 }).request({
        path: '/me',
        token: await token(),
        scopes: ['User.Read'],
      }),
    );
    expect(Date.now() - started).toBeLessThan(1_200);
    expect(err.code).toBe('graph_timeout');
    expect(err.message).toBe('Microsoft Graph did not answer within 0.3 s: try again later');
  });

  it('stops waiting between retries when the caller cancels', async () => {
    graph.inject({ path: '/v1.0/me', status: 429, retryAfterSeconds: 5 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const started = Date.now();
    const err = await failure(
      client({ retry: { ...FAST_RETRY, budgetMs: 10_000 } }).request({
        path: '/me',
        token: await token(),
        scopes: ['User.Read'],
        signal: abort.signal,
      }),
    );
    expect(err.code).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('says which host it cannot reach', async () => {
    const port = await closedPort();
    const err = await failure(
      new GraphClient({ baseUrl: `http://127.0.0.1:${port}/v1.0` }).request({
        path: '/me',
        token: await token(),
        scopes: ['User.Read'],
      }),
    );
    expect(err.code).toBe('graph_unreachable');
    expect(err.message).toBe(
      `Cannot reach Microsoft Graph at 127.0.0.1:${port} (ECONNREFUSED): check VALET_GRAPH_URL and your network`,
    );
  });

  it("holds another client's calls for the same user while Graph's Retry-After runs, shared through the store, and no other user's", async () => {
    const store = new MemoryStore();
    const throttle = new StoreGraphThrottle(store);
    const retry = { ...FAST_RETRY, budgetMs: 5_000 };
    const sentByB: Array<{ at: number; auth: string }> = [];
    const a = client({ throttle, retry });
    const b = client({
      throttle,
      retry,
      fetch: (input, init) => {
        sentByB.push({ at: Date.now(), auth: String(new Headers(init?.headers).get('x-who')) });
        return fetch(input, init);
      },
    });
    const bearer = await token();
    graph.inject({ path: '/v1.0/me', status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const first = a.request({ path: '/me', token: bearer, scopes: ['User.Read'], user: 'adele.t' });
    await expect.poll(() => throttle.waitMs('adele.t'), { interval: 10 }).toBeGreaterThan(0);
    const [sameUser, otherUser] = [
      b.request({
        path: '/me',
        token: bearer,
        scopes: ['User.Read'],
        user: 'adele.t',
        headers: { 'x-who': 'adele' },
      }),
      b.request({
        path: '/me',
        token: bearer,
        scopes: ['User.Read'],
        user: 'megan.t',
        headers: { 'x-who': 'megan' },
      }),
    ];
    await Promise.all([first, sameUser, otherUser]);
    const at = (who: string) => (sentByB.find((s) => s.auth === who)?.at ?? NaN) - started;
    expect(at('megan')).toBeLessThan(500);
    expect(at('adele')).toBeGreaterThanOrEqual(900);
    await store.close();
  });

  it('gives up at once, sending nothing, when the shared back-off outlasts the budget', async () => {
    const store = new MemoryStore();
    const throttle = new StoreGraphThrottle(store);
    await throttle.hold('adele.t', 30_000);
    const err = await failure(
      client({ throttle }).request({
        path: '/me',
        token: await token(),
        scopes: ['User.Read'],
        user: 'adele.t',
      }),
    );
    expect(err.code).toBe('graph_throttled');
    expect(err.message).toMatch(/hold this account's calls for another 30 s/);
    expect(seen('GET', '/v1.0/me')).toHaveLength(0);
    await store.close();
  });
});
