import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApprovalService } from '../../main/core/approvals/approval-service.ts';
import type { AuditEvent } from '../../main/core/audit/audit-types.ts';
import { handleControl, type ControlHandlers } from '../../main/core/endpoint/control-api.ts';
import { writeEndpointInfo } from '../../main/core/endpoint/endpoint-info.ts';
import { KeyStore } from '../../main/core/keys/key-store.ts';
import { announceKeysChanged } from '../../main/cli/control-client.ts';
import { cliEnv, runCli } from '../support/cli.ts';

let running: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (running ? running.close(resolve) : resolve(undefined)));
  running = undefined;
});

/**
 * A running MCP Valet as `keys revoke` finds it: endpoint.json in the data dir, naming a
 * loopback server that answers /control/* with the real control API and these handlers.
 */
async function runningServer(dataDir: string, handlers: ControlHandlers) {
  const token = randomBytes(32).toString('base64url');
  running = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    void handleControl(req, res, path, token, handlers);
  });
  await new Promise<void>((resolve) => running!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(running.address() as AddressInfo).port}`;
  await writeEndpointInfo(dataDir, `${url}/mcp`, token);
  return { url, token };
}

async function keyFor(dataDir: string) {
  return new KeyStore(dataDir, { watch: false }).create({
    name: 'agent',
    tools: ['get_user_details'],
    readOnly: true,
    account: null,
  });
}

describe('mcp-valet keys revoke beside a running server', () => {
  it('tells the server, which refuses the key on its very next check', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-revoke-'));
    // The server's store gets no word from the file system and its clock stands still:
    // only the CLI's message can make it read keys.json again.
    const keys = new KeyStore(dataDir, { watch: false, now: () => 0 });
    const told: Array<string | undefined> = [];
    const audited: AuditEvent[] = [];
    await runningServer(dataDir, {
      approvals: new ApprovalService(),
      audit: async (event) => void audited.push(event),
      keysChanged: async (revoked) => {
        told.push(revoked);
        keys.reload();
      },
    });
    const { key, secret } = await keyFor(dataDir);
    expect(await keys.verify(secret)).toEqual({ key });

    const revoked = await runCli(
      ['keys', 'revoke', 'agent', '--json'],
      cliEnv({ VALET_DATA_DIR: dataDir }),
    );
    expect(revoked.code).toBe(0);
    expect(told).toEqual([key.id]);
    expect(await keys.verify(secret)).toEqual({ rejected: 'revoked', keyId: key.id });
    expect(audited).toMatchObject([{ type: 'key_revoked', actor: { keyId: key.id } }]);
  });

  it('returns only once a server that cannot be told reads keys.json again by itself', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-revoke-'));
    // A server without the route (and with no file watch) looks at keys.json only when the
    // stamp it keeps is older than its bound.
    const keys = new KeyStore(dataDir, { watch: false });
    await runningServer(dataDir, {
      approvals: new ApprovalService(),
      audit: async () => undefined,
    });
    const { key, secret } = await keyFor(dataDir);
    expect(await keys.verify(secret)).toEqual({ key });

    await new KeyStore(dataDir, { watch: false }).revoke(key.id);
    await announceKeysChanged(dataDir, key.id);
    expect(await keys.verify(secret)).toEqual({ rejected: 'revoked', keyId: key.id });
  });

  it('the control route takes only the control token', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'valet-revoke-'));
    const told: Array<string | undefined> = [];
    const { url, token } = await runningServer(dataDir, {
      approvals: new ApprovalService(),
      audit: async () => undefined,
      keysChanged: async (revoked) => void told.push(revoked),
    });
    const { secret } = await keyFor(dataDir);
    const post = (authorization: string | undefined, body: string) =>
      fetch(`${url}/control/keys/changed`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        body,
      });
    expect((await post(undefined, '{}')).status).toBe(401);
    expect((await post('Bearer wrong', '{}')).status).toBe(401);
    expect((await post(`Bearer ${secret}`, '{}')).status).toBe(401);
    expect((await post(`Bearer ${token}`, '{"revoked":"../../x"}')).status).toBe(400);
    expect(told).toEqual([]);
    expect((await post(`Bearer ${token}`, '{}')).status).toBe(200);
    expect(told).toEqual([undefined]);
  });
});
