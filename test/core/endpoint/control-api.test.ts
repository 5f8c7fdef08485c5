import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PendingApproval } from '../../../main/core/approvals/approval-service.ts';
import { endpointProof } from '../../../main/core/endpoint/control-api.ts';
import { readEndpointInfo } from '../../../main/core/endpoint/endpoint-info.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { connectClient, useValet } from '../../support/valet.ts';
import { auditRecords } from '../../support/audit-records.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, {
  key: 'claude',
  configFile: { policy: { approvalTimeoutSeconds: 5 } },
});

const mail = { to: ['alex@contoso.test'], subject: 'Approve me', body: 'I approved this myself.' };
const sentMail = () => fx.valet.graph.requests.filter((r) => r.path === '/v1.0/me/sendMail');

async function controlToken(): Promise<string> {
  const info = await readEndpointInfo(fx.valet.dataDir);
  if (!info?.controlToken) throw new Error('the endpoint wrote no control token');
  return info.controlToken;
}

/** Calls a control route as any local process could, with the given Authorization header. */
async function control(
  method: 'GET' | 'POST',
  path: string,
  authorization: string | undefined,
  body?: unknown,
  extra: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const response = await fetch(new URL(path, fx.valet.endpoint.url), {
    method,
    headers: {
      ...(authorization !== undefined ? { authorization } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...extra,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, text: await response.text() };
}

const allRecords = () => auditRecords(fx.valet.core.audit.dir);

describe('the control API', () => {
  it('refuses every control route with no token, a wrong token or a valet key (401), and changes nothing', async () => {
    const token = await controlToken();
    const asked = new Promise<PendingApproval>((resolve) =>
      fx.valet.core.approvals.once('approval-requested', resolve),
    );
    const { client } = await connectClient(fx.valet.endpoint.url, fx.secret, 'Claude');
    const call = client.callTool({ name: 'send_mail', arguments: mail });
    const pending = await asked;

    const credentials: Record<string, string | undefined> = {
      'no Authorization header': undefined,
      'an empty bearer': 'Bearer ',
      'a wrong token of the same length': `Bearer ${randomBytes(32).toString('base64url')}`,
      'the token with one character changed': `Bearer ${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
      'the token with a suffix': `Bearer ${token}x`,
      'the token as Basic credentials': `Basic ${token}`,
      'a valid valet key': `Bearer ${fx.secret}`,
    };
    const routes: Array<{ method: 'GET' | 'POST'; path: string; body?: unknown }> = [
      { method: 'GET', path: '/control/approvals' },
      { method: 'POST', path: `/control/approvals/${pending.id}`, body: { kind: 'once' } },
      { method: 'POST', path: `/control/approvals/${pending.id}`, body: { kind: 'deny' } },
      {
        method: 'POST',
        path: '/control/audit',
        body: { type: 'key_created', outcome: 'forged-by-test' },
      },
      { method: 'GET', path: '/control/no-such-route' },
    ];
    for (const [who, authorization] of Object.entries(credentials)) {
      for (const route of routes) {
        const answer = await control(route.method, route.path, authorization, route.body);
        expect(answer.status, `${route.method} ${route.path} with ${who}`).toBe(401);
        expect(answer.text).not.toContain(pending.id);
      }
    }

    // The user's own control token still works, so the refusals above were about the credential.
    const listed = await control('GET', '/control/approvals', `Bearer ${token}`);
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.text)).toMatchObject({ approvals: [{ id: pending.id }] });

    expect(fx.valet.core.approvals.list().map((a) => a.id)).toEqual([pending.id]);
    expect(sentMail()).toEqual([]);
    expect((await allRecords()).filter((r) => r.outcome === 'forged-by-test')).toEqual([]);
    fx.valet.core.approvals.decide(pending.id, { kind: 'deny' });
    expect((await call).isError).toBe(true);
    await client.close();
  });

  it('does not let an MCP client approve its own send_mail: it stays pending, then ends denied, and no mail goes out', async () => {
    const asked = new Promise<PendingApproval>((resolve) =>
      fx.valet.core.approvals.once('approval-requested', resolve),
    );
    const { client, transport } = await connectClient(fx.valet.endpoint.url, fx.secret, 'Claude');
    const call = client.callTool({ name: 'send_mail', arguments: mail });
    const pending = await asked;

    // What a prompt-injected client could try: its own key, with and without its session.
    const withSession: Record<string, string> = { 'mcp-session-id': transport.sessionId! };
    for (const extra of [{}, withSession]) {
      for (const kind of ['once', 'window']) {
        const decision = kind === 'window' ? { kind, minutes: 60 } : { kind };
        const answer = await control(
          'POST',
          `/control/approvals/${pending.id}`,
          `Bearer ${fx.secret}`,
          decision,
          extra,
        );
        expect(answer.status).toBe(401);
      }
    }
    expect(fx.valet.core.approvals.list().map((a) => a.id)).toEqual([pending.id]);
    expect(sentMail()).toEqual([]);

    const result = await call;
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain(
      'No one approved send_mail in MCP Valet within 5 seconds, so it was not run',
    );
    expect(sentMail()).toEqual([]);
    expect(fx.valet.core.approvals.list()).toEqual([]);
    await client.close();
  });

  it('answers a challenge without the token: an HMAC of the nonce and its own port, never the token itself', async () => {
    const token = await controlToken();
    const port = Number(new URL(fx.valet.endpoint.url).port);
    const nonce = randomBytes(32).toString('base64url');
    const answer = await control('POST', '/control/proof', undefined, { nonce });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      proof: endpointProof(token, nonce, '127.0.0.1', port),
    });
    expect(answer.text).not.toContain(token);
    // Bound to the nonce and the port: useless for another challenge or another port.
    expect(endpointProof(token, nonce, '127.0.0.1', port + 1)).not.toBe(
      JSON.parse(answer.text).proof,
    );
    const other = await control('POST', '/control/proof', undefined, {
      nonce: randomBytes(32).toString('base64url'),
    });
    expect(JSON.parse(other.text).proof).not.toBe(JSON.parse(answer.text).proof);

    expect((await control('POST', '/control/proof', undefined, { nonce: 'short' })).status).toBe(
      400,
    );
    expect((await control('POST', '/control/proof', undefined, {})).status).toBe(400);
    expect((await control('GET', '/control/proof', undefined)).status).toBe(405);
  });
});
