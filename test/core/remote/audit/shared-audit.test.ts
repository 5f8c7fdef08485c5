import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../../main/core/audit/audit-types.ts';
import { auditRecords } from '../../../support/audit-records.ts';
import { mintValetToken } from '../../../support/minted-tokens.ts';
import {
  connectAdmin,
  startRedisServer,
  type AdminClient,
  type TestRedis,
} from '../../../support/redis-server.ts';
import {
  rawRequest,
  startTestRemote,
  tempDir,
  type TestRemote,
  offlineRemoteEnv,
} from '../../../support/remote-server.ts';

const INSTANCE = 'web-1';
const CLIENT_ID = 'shared-audit-client';
const TID = '11111111-1111-1111-1111-111111111111';
const USER = {
  oid: '00000000-0000-0000-0000-0000000000e0',
  tid: TID,
  homeAccountId: `00000000-0000-0000-0000-0000000000e0.${TID}`,
  username: 'erin@contoso.example',
};
/** Words in a call's arguments: the chain keeps only their size, and the stream nothing of them. */
const SEARCH_WORDS = 'quarterly-merger-codename';

describe('an instance publishes its audit chain to Redis', () => {
  let redis: TestRedis;
  let admin: AdminClient;
  let dir: { dir: string; remove: () => Promise<void> };
  let remote: TestRemote;
  let chain: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = await connectAdmin(redis);
    dir = await tempDir();
    chain = join(dir.dir, 'chain');
    remote = await startTestRemote(
      {
        ...(await offlineRemoteEnv(dir.dir)),
        VALET_REDIS_URL: redis.url,
        VALET_CACHE_KEY: Buffer.alloc(32, 5).toString('base64'),
        VALET_INSTANCE_ID: INSTANCE,
        VALET_AUDIT_DIR: chain,
      },
      { dir: dir.dir },
    );
  });

  afterAll(async () => {
    await remote?.close();
    await dir?.remove();
    admin?.destroy();
    await redis?.close();
  });

  /** A valet key of USER for get_user_details, and an access token of it. */
  async function mintToken(): Promise<{ keyId: string; token: string }> {
    const { key, token } = await mintValetToken(remote.server.store, remote.publicUrl, USER, {
      name: 'Erin laptop',
      clientId: CLIENT_ID,
    });
    return { keyId: key.id, token };
  }

  let id = 0;
  /** Calls `tool` as the token's client; resolves to the HTTP answer. */
  const call = (token: string, tool: string, args: Record<string, unknown> = {}) =>
    rawRequest(`${remote.publicUrl}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: ++id,
        method: 'tools/call',
        params: { name: tool, arguments: args },
      }),
    });

  /** The tool_call records of `keyId` in the instance's chain. */
  const callsInChain = (keyId: string) =>
    auditRecords(chain, (r) => r.type === 'tool_call' && r.actor?.keyId === keyId);

  /** The raw entries of mv:audit for `keyId`, as any Redis client reads them. */
  async function streamed(keyId: string) {
    const entries = (await admin.xRange('mv:audit', '-', '+')) ?? [];
    return entries.filter((e) => e.message.keyId === keyId);
  }

  /** The chain's last record, once the head in Redis names it (seq, hash and time). */
  async function headMatchesChain(): Promise<AuditRecord> {
    const matching = async () => {
      const last = (await auditRecords(chain)).at(-1);
      const head = await admin.hGetAll(`mv:audit:head:${INSTANCE}`);
      const same =
        head.seq === String(last?.seq) && head.hash === last?.hash && head.time === last?.time;
      return same ? last : undefined;
    };
    await expect.poll(matching, { timeout: 5000 }).toBeDefined();
    return (await matching())!;
  }

  it('puts each tool call in the mv:audit stream, naming instance, user, key, client, tool and outcome but never the arguments, and its head in Redis is the chain’s last record', async () => {
    const { keyId, token } = await mintToken();
    expect((await call(token, 'get_user_details')).status).toBe(200);
    // Outside the key's tools: refused, and audited as denied.
    expect((await call(token, 'list_messages', { search: SEARCH_WORDS })).status).toBe(200);

    const records = await callsInChain(keyId);
    expect(records.map((r) => [r.details?.tool, r.outcome])).toEqual([
      ['get_user_details', expect.any(String)],
      ['list_messages', 'denied'],
    ]);
    await expect.poll(async () => (await streamed(keyId)).length, { timeout: 5000 }).toBe(2);
    const entries = await streamed(keyId);
    expect(entries.map((e) => e.message)).toEqual(
      records.map((r) => ({
        instance: INSTANCE,
        seq: String(r.seq),
        time: r.time,
        type: 'tool_call',
        outcome: r.outcome,
        tool: r.details?.tool,
        oid: USER.oid,
        keyId,
        keyName: 'Erin laptop',
        client: 'Erin laptop',
        clientId: CLIENT_ID,
        account: USER.username,
        durationMs: String(r.details?.durationMs),
        ...(typeof (r.details?.rule ?? r.details?.error) === 'string'
          ? { reason: r.details?.rule ?? r.details?.error }
          : {}),
      })),
    );
    const raw = JSON.stringify(await admin.xRange('mv:audit', '-', '+'));
    expect(raw).not.toContain(SEARCH_WORDS);
    expect(raw).not.toContain('args');
    expect(raw).not.toContain(token);

    const last = await headMatchesChain();
    expect(last.seq).toBeGreaterThanOrEqual(records.at(-1)!.seq);
  });

  it('a call whose record cannot be published still gets its result and is in the chain; the failure is logged once for many calls, and publishing resumes by itself', async () => {
    const { keyId, token } = await mintToken();
    const before = await call(token, 'get_user_details');
    await expect.poll(async () => (await streamed(keyId)).length, { timeout: 5000 }).toBe(1);
    // Redis refuses XADD from now on (as a full or misconfigured Redis would): only publishing fails.
    await admin.sendCommand(['ACL', 'SETUSER', 'default', '-xadd']);
    let answers: Awaited<ReturnType<typeof call>>[];
    try {
      answers = [];
      for (let i = 0; i < 5; i++) answers.push(await call(token, 'get_user_details'));
      await expect.poll(() => warnings().length, { timeout: 5000 }).toBe(1);
      // Long enough for every record of those calls to have been tried: still one warning.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(warnings()).toHaveLength(1);
    } finally {
      await admin.sendCommand(['ACL', 'SETUSER', 'default', '+xadd']);
    }
    const resultOf = (body: string) =>
      body.replace(/"id":\d+/, '"id":0').replace(/\d+(\.\d+)? ms/g, 'N ms');
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(resultOf(answer.body)).toBe(resultOf(before.body));
    }
    expect(await callsInChain(keyId)).toHaveLength(6);
    expect(warnings()[0]).toMatch(
      /audit record\(s\) of instance web-1 could not be published to the shared store \(.*NOPERM.*\); they are in this instance's audit log/,
    );
    expect(remote.logger.lines.join('\n')).not.toContain(token);

    expect((await call(token, 'get_user_details')).status).toBe(200);
    await expect.poll(async () => (await streamed(keyId)).length, { timeout: 5000 }).toBe(2);
    const [first, after] = await streamed(keyId);
    const inChain = await callsInChain(keyId);
    expect([first?.message.seq, after?.message.seq]).toEqual([
      String(inChain[0]!.seq),
      String(inChain[6]!.seq),
    ]);
    await headMatchesChain();
  });

  function warnings(): string[] {
    return remote.logger.lines.filter((l) => l.includes('could not be published'));
  }
});
