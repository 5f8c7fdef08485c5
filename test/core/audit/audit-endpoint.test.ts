import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../../../main/core/audit/audit-reader.ts';
import { AUDIT_TYPES } from '../../../main/core/audit/audit-types.ts';
import { DEMO_USERS, type IdpUser } from '../../../main/demo/idp/index.ts';
import { connectClient, useValet } from '../../support/valet.ts';
import { auditRecords } from '../../support/audit-records.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useValet(adele, {});

function raw(headers: Record<string, string>): Promise<number> {
  const url = new URL(fx.valet.endpoint.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: url.port,
        method: 'POST',
        path: '/mcp',
        headers: { host: url.host, 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

const BODY = 'The merger closes on Friday; keep this between us. Zebra-7719.';

describe('the audit log of a working day', () => {
  it('records every kind of event, chained, with no token, key or message body in it', async () => {
    const secrets: string[] = [];
    const { key, secret } = await fx.valet.createKey({ name: 'claude' });
    const { secret: narrow } = await fx.valet.createKey({
      name: 'narrow',
      tools: ['get_user_details'],
    });
    secrets.push(secret, narrow);
    secrets.push(
      (await fx.valet.core.auth.getToken({ scopes: ['User.Read'], forceRefresh: true }))
        .accessToken,
    );
    secrets.push((await fx.valet.core.auth.getToken({ scopes: ['Mail.Read'] })).accessToken);

    const { client } = await connectClient(fx.valet.endpoint.url, secret, 'Claude');
    await client.callTool({ name: 'get_user_details', arguments: {} });
    await client.callTool({ name: 'get_message', arguments: { id: 'AAMkAAAAAnonexistent=' } });
    fx.valet.core.approvals.once('approval-requested', (a) =>
      fx.valet.core.approvals.decide(a.id, { kind: 'once' }),
    );
    expect(
      (
        await client.callTool({
          name: 'send_mail',
          arguments: { to: ['alex@contoso.test'], subject: 'Friday', body: BODY },
        })
      ).isError,
    ).toBeFalsy();
    const { client: narrowClient } = await connectClient(fx.valet.endpoint.url, narrow);
    expect((await narrowClient.callTool({ name: 'list_messages', arguments: {} })).isError).toBe(
      true,
    );

    expect(await raw({ authorization: `Bearer ${secret}`, host: 'evil.example' })).toBe(403);
    expect(await raw({ authorization: `Bearer ${secret}`, origin: 'https://evil.example' })).toBe(
      403,
    );
    expect(await raw({ authorization: 'Bearer mvk_000000000000_' + 'z'.repeat(43) })).toBe(401);
    await fx.valet.core.setToolEnabled('search_files', false);
    await fx.valet.core.saveSettings({ clientId: fx.idp.clientIds[0]!, tenantId: fx.idp.tenantId });
    await fx.valet.core.revokeKey(key.id);
    await fx.idp.revokeUser(adele.username);
    await fx.valet.core.auth
      .getToken({ scopes: ['User.Read'], forceRefresh: true })
      .catch(() => undefined);
    await fx.valet.core.auth.signOut();
    await fx.valet.core.close();

    const records = await auditRecords(fx.valet.core.audit.dir);
    const types = new Set(records.map((r) => r.type));
    // rate_limited has its own test (rate-limit.test.ts); the log_* records mark repairs of the
    // log itself and have theirs in audit-log.test.ts.
    const elsewhere = new Set(['rate_limited', 'log_recovered', 'log_pruned']);
    expect([...AUDIT_TYPES].filter((t) => !elsewhere.has(t) && !types.has(t))).toEqual([]);
    const calls = records.filter((r) => r.type === 'tool_call');
    expect(calls.map((r) => [r.details?.tool, r.outcome])).toEqual([
      ['get_user_details', 'allowed'],
      ['get_message', 'failed'],
      ['send_mail', 'allowed'],
      ['list_messages', 'denied'],
    ]);
    const sendRecord = calls[2]!;
    expect(sendRecord).toMatchObject({
      actor: { keyName: 'claude', account: adele.username, client: 'Claude 1.0.0' },
      details: {
        approval: 'approved',
        args: { to: ['alex@contoso.test'], bodyChars: BODY.length },
      },
    });
    expect(sendRecord.details?.graphRequestIds).toEqual([expect.any(String)]);
    expect(typeof sendRecord.details?.durationMs).toBe('number');
    expect(calls[3]).toMatchObject({ details: { rule: 'not-in-key' } });
    expect(
      records.filter((r) => r.type === 'endpoint_rejected').map((r) => r.details?.reason),
    ).toEqual(['host', 'origin', 'unknown']);
    expect(records.find((r) => r.type === 'auth_failure')).toMatchObject({
      outcome: 'interaction_required',
    });
    expect(await verifyAudit(fx.valet.core.audit.dir)).toMatchObject({
      ok: true,
      records: records.length,
    });

    const text = (
      await Promise.all(
        (await readdir(fx.valet.core.audit.dir))
          .filter((f) => f.endsWith('.jsonl'))
          .map((f) => readFile(join(fx.valet.core.audit.dir, f), 'utf8')),
      )
    ).join('\n');
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}\./);
    expect(text).not.toContain('merger');
    expect(text).not.toContain('Zebra-7719');
    expect(text).not.toContain('Friday');
  });
});
