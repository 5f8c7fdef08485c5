import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../main/core/audit/audit-types.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { connectClient, useValet } from '../../support/valet.ts';
import { rawRequest, waitFor, type RawRequestOptions } from './raw-http.ts';
import { auditRecords } from '../../support/audit-records.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, { key: 'matrix' });

/** A raw HTTP request, so the test controls every header (fetch would not let it set Host). */
const send = (options: RawRequestOptions) => rawRequest(fx.valet.endpoint.url, options);

const auth = (key = fx.secret) => ({ authorization: `Bearer ${key}` });

/** The audit log's records of requests refused for `reason` from `source` (an Origin). */
function rejectionRecords(reason: string, source: string): Promise<AuditRecord[]> {
  return auditRecords(
    fx.valet.core.audit.dir,
    (r) =>
      r.type === 'endpoint_rejected' && r.details?.reason === reason && r.details.source === source,
  );
}

describe('endpoint security', () => {
  it('answers only to loopback Host names (DNS rebinding)', async () => {
    const port = new URL(fx.valet.endpoint.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await send({ headers: { ...auth(), host } })).status).toBe(200);
    }
    for (const host of [
      'evil.example:80',
      `attacker.test:${port}`,
      `127.0.0.1:${Number(port) + 1}`,
      'localhost',
    ]) {
      const res = await send({ headers: { ...auth(), host } });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).error.message).toContain('only answers to 127.0.0.1');
    }
  });

  it('refuses requests from web pages (any Origin)', async () => {
    const res = await send({ headers: { ...auth(), origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect((await send({ headers: { ...auth(), origin: 'null' } })).status).toBe(403);
  });

  it('requires a valid valet key, with WWW-Authenticate', async () => {
    const none = await send({});
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="mcp-valet"');
    expect(JSON.parse(none.body).error.message).toContain('A valet key is required');
    const wrong = await send({ headers: auth(`mvk_${'0'.repeat(12)}_${'x'.repeat(43)}`) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
    const garbage = await send({ headers: auth('not-a-key') });
    expect(garbage.status).toBe(401);
    // An Entra token is not a valet key either: tokens never pass through.
    expect((await send({ headers: auth('eyJhbGciOiJSUzI1NiJ9.e30.sig') })).status).toBe(401);
  });

  it('refuses a known key id with a wrong secret (401), gives it no use of that key’s session, and audits the refusal', async () => {
    const { key, secret: real } = await fx.valet.createKey({ name: 'guessed' });
    const wrongSecret = `mvk_${key.id}_${'A'.repeat(43)}`;
    expect(wrongSecret).not.toBe(real);
    // The endpoint's own Origin (accepted) tells this test's refusals apart in the audit log.
    const own = { origin: `http://${new URL(fx.valet.endpoint.url).host}` };
    const init = await send({ headers: { ...auth(wrongSecret), ...own } });
    expect(init.status).toBe(401);
    expect(init.headers['mcp-session-id']).toBeUndefined();
    expect(init.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(JSON.parse(init.body).error.message).toContain('Unknown valet key');
    // The key's own session answers the real secret, and only it.
    const opened = await send({ headers: auth(real) });
    const sessionId = String(opened.headers['mcp-session-id']);
    const graphBefore = fx.valet.graph.requests.length;
    const call = JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'get_user_details', arguments: {} },
    });
    const hijack = await send({
      headers: { ...auth(wrongSecret), ...own, 'mcp-session-id': sessionId },
      body: call,
    });
    expect(hijack.status).toBe(401);
    expect(hijack.body).not.toContain(adele.username);
    expect(fx.valet.graph.requests.length).toBe(graphBefore);
    // Refusals are audited as counts (one record a second per source and reason at most).
    let records: AuditRecord[] = [];
    const counted = () => records.reduce((n, r) => n + Number(r.details?.count ?? 1), 0);
    await waitFor(
      () => counted() >= 2,
      'both refusals in the audit log',
      5_000,
      async () => {
        records = await rejectionRecords('unknown', own.origin);
      },
    );
    expect(counted()).toBe(2);
    expect(records[0]).toMatchObject({ outcome: 'rejected', details: { status: 401 } });
    expect(JSON.stringify(records)).not.toContain(wrongSecret.slice(17));
  });

  it('stops a revoked key at once, in the middle of a session', async () => {
    const { key, secret: doomed } = await fx.valet.createKey({ name: 'doomed' });
    const { client } = await connectClient(fx.valet.endpoint.url, doomed);
    await expect(client.callTool({ name: 'auth_status', arguments: {} })).resolves.toMatchObject({
      structuredContent: { username: adele.username },
    });
    const before = fx.valet.endpoint.sessionCount;
    await fx.valet.core.keys.revoke(key.id);
    await expect(client.callTool({ name: 'auth_status', arguments: {} })).rejects.toThrow(
      /401|revoked/,
    );
    expect(fx.valet.endpoint.sessionCount).toBe(before - 1);
    const res = await send({ headers: auth(doomed) });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error.message).toContain('revoked');
  });

  it("refuses a tool outside the key's list as a tool error", async () => {
    const { secret: narrow } = await fx.valet.createKey({
      name: 'narrow',
      tools: ['get_user_details'],
    });
    const { client } = await connectClient(fx.valet.endpoint.url, narrow);
    const result = await client.callTool({ name: 'list_messages', arguments: {} });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain(
      "The valet key 'narrow' may not call list_messages",
    );
    expect(fx.valet.graph.requests.filter((r) => r.path.endsWith('/me/messages'))).toHaveLength(0);
    await expect(
      client.callTool({ name: 'get_user_details', arguments: {} }),
    ).resolves.toMatchObject({ structuredContent: { mail: adele.username } });
  });

  it("does not let one key use another key's session", async () => {
    const { secret: other } = await fx.valet.createKey({ name: 'other' });
    const opened = await send({ headers: auth() });
    const sessionId = String(opened.headers['mcp-session-id']);
    const res = await send({
      headers: { ...auth(other), 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(403);
  });

  it('limits the body size, rejects malformed JSON and JSON-RPC, and stays up', async () => {
    const big = await send({ headers: auth(), body: Buffer.alloc(2 * 1024 * 1024, 0x20) });
    expect(big.status).toBe(413);
    const bad = await send({ headers: auth(), body: '{"jsonrpc": "2.0", "id": 1, "method": ' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe(-32700);
    const notRpc = await send({ headers: auth(), body: JSON.stringify({ hello: 'world' }) });
    expect(notRpc.status).toBe(400);
    const text = await send({ headers: { ...auth(), 'content-type': 'text/plain' }, body: 'hi' });
    expect(text.status).toBe(415);
    expect((await send({ path: '/other', headers: auth() })).status).toBe(404);
    expect((await send({ method: 'PUT', headers: auth() })).status).toBe(405);
    // Still serving.
    const { client } = await connectClient(fx.valet.endpoint.url, fx.secret);
    await expect(
      client.callTool({ name: 'get_user_details', arguments: {} }),
    ).resolves.toMatchObject({ structuredContent: expect.any(Object) });
  });
});
