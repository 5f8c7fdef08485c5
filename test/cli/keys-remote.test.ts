import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../main/core/audit/audit-reader.ts';
import { RemoteKeys } from '../../main/core/remote/oauth/remote-keys.ts';
import { ValetTokens } from '../../main/core/remote/oauth/valet-tokens.ts';
import {
  readRemoteControl,
  REMOTE_CONTROL_FILE,
} from '../../main/core/remote/server/remote-control.ts';
import { MemoryStore } from '../../main/core/remote/store/memory-store.ts';
import { WebSessions } from '../../main/core/remote/web/web-sessions.ts';
import { silentLogger } from '../../main/core/util/logger.ts';
import { auditRecords } from '../support/audit-records.ts';
import { mintValetToken } from '../support/minted-tokens.ts';
import { cliEnv, runCli } from '../support/cli.ts';
import {
  rawRequest,
  startTestRemote,
  tempDir,
  type TestRemote,
  offlineRemoteEnv,
} from '../support/remote-server.ts';

const CLIENT_ID = 'offline-client';
const TID = '11111111-1111-1111-1111-111111111111';
const BOB = {
  oid: '00000000-0000-0000-0000-0000000000b0',
  tid: TID,
  homeAccountId: `00000000-0000-0000-0000-0000000000b0.${TID}`,
  username: 'bob@contoso.example',
};
const CAROL = {
  oid: '00000000-0000-0000-0000-0000000000c0',
  tid: TID,
  homeAccountId: `00000000-0000-0000-0000-0000000000c0.${TID}`,
  username: 'carol@contoso.example',
};
const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };

describe('keys list --remote and keys revoke --remote, against a running team server', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let remote: TestRemote;
  let keys: RemoteKeys;
  let tokens: ValetTokens;
  let env: NodeJS.ProcessEnv;

  /** A key that `who` consented to (signed in on the web first), and a live token of it. */
  async function consented(who: typeof BOB, name: string) {
    await new WebSessions(remote.server.store).create({ ...who, name: who.username, roles: [] });
    return mintValetToken(remote.server.store, remote.publicUrl, who, {
      name,
      clientId: CLIENT_ID,
    });
  }

  const list = (token: string) =>
    rawRequest(`${remote.publicUrl}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify(LIST),
    });

  beforeAll(async () => {
    dir = await tempDir();
    const store = new MemoryStore();
    remote = await startTestRemote(
      {
        ...(await offlineRemoteEnv(dir.dir)),
      },
      { dir: dir.dir, deps: { store } },
    );
    keys = new RemoteKeys(store);
    tokens = new ValetTokens({
      store,
      keys,
      logger: silentLogger,
      tokenTtlSeconds: 3600,
      refreshTtlSeconds: 7200,
    });
    env = cliEnv({ VALET_DATA_DIR: dir.dir });
  });

  afterAll(async () => {
    await remote?.close();
    await dir?.remove();
  });

  it('lists every user’s keys with their user, tools and state, and never a token', async () => {
    const bob = await consented(BOB, 'VS Code');
    const carol = await consented(CAROL, 'Cursor');
    const result = await runCli(['keys', 'list', '--remote', '--json'], env);
    expect(result.stderr).toContain(bob.key.id);
    expect(result.code).toBe(0);
    const listed = result.events.find((e) => e.event === 'keys') as unknown as {
      keys: Array<{ id: string; username: string; tools: string[]; readOnly: boolean }>;
      instance_id: string;
    };
    expect(listed.instance_id).toBe(remote.config.instanceId);
    expect(listed.keys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: bob.key.id,
          name: 'VS Code',
          username: BOB.username,
          tools: ['get_user_details'],
          readOnly: true,
        }),
        expect.objectContaining({ id: carol.key.id, name: 'Cursor', username: CAROL.username }),
      ]),
    );
    for (const secret of [bob.token, bob.refresh, carol.token, carol.refresh])
      expect(result.stdout + result.stderr).not.toContain(secret);

    const onlyCarol = await runCli(
      ['keys', 'list', '--remote', '--user', CAROL.oid, '--json'],
      env,
    );
    const carolKeys = (
      onlyCarol.events.find((e) => e.event === 'keys') as unknown as { keys: { id: string }[] }
    ).keys;
    expect(carolKeys.map((k) => k.id)).toEqual([carol.key.id]);
  });

  it('revokes a key so that its client’s very next request is refused, and the server audits who revoked it', async () => {
    const { key, token, refresh } = await consented(BOB, 'Claude');
    expect((await list(token)).status).toBe(200);

    const result = await runCli(['keys', 'revoke', key.id, '--remote', '--json'], env);
    expect(result.code).toBe(0);
    expect(result.events).toContainEqual(
      expect.objectContaining({
        event: 'key_revoked',
        key: expect.objectContaining({ id: key.id, revokedAt: expect.any(String) }),
      }),
    );
    expect(result.stderr).toMatch(/Revoked remote key 'Claude'.*refused from its next request/);

    expect((await list(token)).status).toBe(401);
    // Its refresh token is gone with it: the client cannot mint a new access token.
    await expect(tokens.refresh(CLIENT_ID, refresh, undefined)).rejects.toThrow();

    const relisted = await runCli(['keys', 'list', '--remote'], env);
    expect(relisted.stderr).toMatch(new RegExp(`${key.id}.*\\[revoked `));

    await expect
      .poll(() =>
        auditRecords(
          join(dir.dir, 'audit'),
          (r) => r.type === 'key_revoked' && r.actor?.keyId === key.id,
        ),
      )
      .toEqual([
        expect.objectContaining({
          outcome: 'ok',
          details: { by: expect.stringContaining('mcp-valet keys revoke --remote') },
        }),
      ]);
    expect((await verifyAudit(join(dir.dir, 'audit'))).ok).toBe(true);
  });

  it('refuses an unknown key ID, pointing to keys list --remote', async () => {
    const result = await runCli(['keys', 'revoke', '0123456789ab', '--remote'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'No remote key 0123456789ab: run `mcp-valet keys list --remote` to see the key IDs',
    );
  });

  it('keeps its control API on loopback behind an owner-only token file: no token, a wrong one, a browser’s Origin or another Host is refused', async () => {
    const file = join(dir.dir, REMOTE_CONTROL_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const info = await readRemoteControl(dir.dir);
    expect(info?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { key } = await consented(CAROL, 'Inspector');
    const revoke = (headers: Record<string, string>) =>
      fetch(`${info?.url}/control/keys/${key.id}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ by: 'attacker' }),
      });
    expect((await revoke({})).status).toBe(401);
    expect((await revoke({ authorization: 'Bearer not-the-token' })).status).toBe(401);
    expect(
      (await revoke({ authorization: `Bearer ${info?.token}`, origin: 'http://evil.example' }))
        .status,
    ).toBe(403);
    // A page that rebinds a name of its own to 127.0.0.1 sends its own Host: refused too.
    const rebound = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${info?.url}/control/keys/${key.id}/revoke`);
      const req = request(
        {
          host: '127.0.0.1',
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            host: `evil.example:${url.port}`,
            authorization: `Bearer ${info?.token}`,
            'content-type': 'application/json',
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ by: 'attacker' }));
    });
    expect(rebound).toBe(403);
    expect((await keys.get(key.id))?.revokedAt).toBeUndefined();
    // The public listener has no control routes at all.
    const publicTry = await rawRequest(`${remote.publicUrl}/control/keys`, {
      headers: { authorization: `Bearer ${info?.token}` },
    });
    expect(publicTry.status).toBe(404);
  });
});

describe('keys … --remote without a running team server', () => {
  it('says that no team server runs on the data dir and how to reach one', async () => {
    const empty = await tempDir();
    try {
      const result = await runCli(
        ['keys', 'list', '--remote'],
        cliEnv({ VALET_DATA_DIR: empty.dir }),
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`No team server runs on the data dir ${empty.dir}`);
      expect(result.stderr).toContain('VALET_DATA_DIR');
    } finally {
      await empty.remove();
    }
  });

  it('removes its control file when the server stops', async () => {
    const own = await tempDir();
    const server = await startTestRemote(
      {
        ...(await offlineRemoteEnv(own.dir)),
      },
      { dir: own.dir },
    );
    expect(await readRemoteControl(own.dir)).toBeDefined();
    await server.close();
    expect(await readRemoteControl(own.dir)).toBeUndefined();
    await own.remove();
  });
});
