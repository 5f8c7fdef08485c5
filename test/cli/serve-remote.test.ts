import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGraph } from '../../main/demo/graph/index.ts';
import { DEMO_CLIENT_ID, DEMO_USERS } from '../../main/demo/idp/index.ts';
import type { IdpUser, RunningIdp } from '../../main/demo/idp/index.ts';
import { auditRecords } from '../support/audit-records.ts';
import { cliEnv, runCli, spawnCli } from '../support/cli.ts';
import { signInByDeviceCode } from '../support/entra-api.ts';
import { startTestIdp } from '../support/idp.ts';
import { connectAdmin, startRedisServer } from '../support/redis-server.ts';
import { startGraphFor } from '../support/valet.ts';
import {
  freePort,
  OFFLINE_AUTHORITY,
  REMOTE_CLIENT_ID,
  REMOTE_CLIENT_SECRET,
  ResponseLog,
  rawRequest,
  tempDir,
  writeAuthorityMetadata,
  writeTlsFiles,
} from '../support/remote-server.ts';

const CACHE_KEY = Buffer.alloc(32, 7).toString('base64');

describe('mcp-valet serve --remote', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let baseEnv: NodeJS.ProcessEnv;
  const seen = new ResponseLog();

  beforeAll(async () => {
    dir = await tempDir();
    baseEnv = cliEnv({
      VALET_DATA_DIR: dir.dir,
      VALET_CLIENT_ID: REMOTE_CLIENT_ID,
      VALET_AUTHORITY: OFFLINE_AUTHORITY,
      VALET_AUTHORITY_METADATA_FILE: await writeAuthorityMetadata(dir.dir, OFFLINE_AUTHORITY),
      VALET_CLIENT_SECRET: 'cli-test-secret',
    });
  });

  afterAll(async () => {
    await dir?.remove();
  });

  /** Runs a command that must stop at once with exactly one line on stderr and an error event. */
  async function refusedWithOneLine(args: string[], env: NodeJS.ProcessEnv = baseEnv) {
    const result = await runCli(['serve', '--remote', ...args, '--json'], env, 20_000);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(result.events).toHaveLength(1);
    expect(result.events[0]?.event).toBe('error');
    return { line: lines[0] ?? '', event: result.events[0] };
  }

  it('prints ready with the public MCP URL and the real port when port 0 was asked, serves, and prints stopped on SIGTERM', async () => {
    const proc = spawnCli(
      [
        'serve',
        '--remote',
        '--public-url',
        'http://localhost:8443',
        '--listen',
        '127.0.0.1:0',
        '--instance-id',
        'web-1',
        '--json',
      ],
      baseEnv,
    );
    try {
      const ready = await proc.nextEvent('ready', 20_000);
      expect(ready).toMatchObject({
        event: 'ready',
        url: 'http://localhost:8443/mcp',
        auth: 'valet',
        instance_id: 'web-1',
        store: 'memory',
      });
      const listen = String(ready.listen);
      expect(listen).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const port = Number(new URL(listen).port);
      expect(port).toBeGreaterThan(0);
      // The server answers to its public host only, wherever it listens.
      const health = await rawRequest(`http://127.0.0.1:${port}/healthz`, {
        headers: { host: 'localhost:8443' },
      });
      seen.add(health);
      expect(health.status).toBe(200);
      const ready2 = await rawRequest(`http://127.0.0.1:${port}/readyz`, {
        headers: { host: 'localhost:8443' },
      });
      seen.add(ready2);
      expect(ready2.status).toBe(200);
      proc.child.kill('SIGTERM');
      const result = await proc.exited;
      expect(result.code).toBe(0);
      expect(result.events.map((e) => e.event)).toEqual(['ready', 'stopped']);
      expect(result.events[1]).toEqual({ event: 'stopped', signal: 'SIGTERM' });
      // The secret's warning and the credential in use, never the secret itself.
      expect(result.stderr).toContain('Microsoft discourages client secrets');
      expect(result.stderr).toContain('client secret (VALET_CLIENT_SECRET)');
      expect(result.stderr).not.toContain('cli-test-secret');
      seen.addText(result.stdout);
      seen.addText(result.stderr);
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('serves https with --tls-cert and --tls-key, and reports the https listener', async () => {
    const tls = await writeTlsFiles(dir.dir);
    const proc = spawnCli(
      [
        'serve',
        '--remote',
        '--public-url',
        'https://localhost:9443',
        '--listen',
        '127.0.0.1:0',
        '--tls-cert',
        tls.certFile,
        '--tls-key',
        tls.keyFile,
        '--json',
      ],
      baseEnv,
    );
    try {
      const ready = await proc.nextEvent('ready', 20_000);
      const port = new URL(String(ready.listen)).port;
      expect(String(ready.listen)).toBe(`https://127.0.0.1:${port}`);
      const health = await rawRequest(`https://127.0.0.1:${port}/healthz`, {
        headers: { host: 'localhost:9443' },
      });
      seen.add(health);
      expect(health.status).toBe(200);
      expect(health.headers['strict-transport-security']).toBe('max-age=31536000');
      proc.child.kill('SIGINT');
      expect((await proc.exited).events.at(-1)).toEqual({ event: 'stopped', signal: 'SIGINT' });
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('refuses an http public URL that is not on localhost with one line', async () => {
    const { line } = await refusedWithOneLine([
      '--public-url',
      'http://valet.contoso.test',
      '--listen',
      '127.0.0.1:0',
    ]);
    expect(line).toMatch(
      /^mcp-valet: --public-url is not https \(got 'http:\/\/valet\.contoso\.test'\)/,
    );
  });

  it('refuses plain http on a public https URL without a TLS proxy or certificate, with one line', async () => {
    const { line, event } = await refusedWithOneLine([
      '--public-url',
      'https://valet.contoso.test',
      '--listen',
      '127.0.0.1:0',
    ]);
    expect(line).toContain('Plain http is only served behind a TLS proxy or on localhost');
    expect(line).toContain('--tls-cert');
    expect(line).toContain('--trust-proxy');
    expect(event).toMatchObject({ code: 'config_invalid' });
  });

  it('refuses two client credentials with one line naming both', async () => {
    const { line } = await refusedWithOneLine(
      ['--public-url', 'http://localhost:8443', '--listen', '127.0.0.1:0'],
      { ...baseEnv, VALET_CLIENT_CERT_FILE: `${dir.dir}/openid-configuration.json` },
    );
    expect(line).toBe(
      'mcp-valet: 2 client credentials are set (VALET_CLIENT_CERT_FILE, VALET_CLIENT_SECRET): keep exactly one of them and unset the others',
    );
  });

  it('stops when Redis cannot be reached, with a line naming its host and port and never its password', async () => {
    const port = await freePort();
    const result = await runCli(
      [
        'serve',
        '--remote',
        '--public-url',
        'http://localhost:8443',
        '--listen',
        '127.0.0.1:0',
        '--redis',
        `redis://valet:hunter2-secret@127.0.0.1:${port}`,
        '--json',
      ],
      { ...baseEnv, VALET_CACHE_KEY: CACHE_KEY },
      30_000,
    );
    expect(result.code).toBe(1);
    const last = result.stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toContain(`Cannot connect to the shared store (Redis at 127.0.0.1:${port})`);
    expect(last).toContain('--redis (VALET_REDIS_URL)');
    expect(result.stdout + result.stderr).not.toContain('hunter2-secret');
    expect(result.events.at(-1)).toMatchObject({ event: 'error', code: 'store-unavailable' });
  });

  it('serves with --redis: ready names the Redis store, and what the server shares lands in Redis under the prefix', async () => {
    const redis = await startRedisServer();
    const proc = spawnCli(
      [
        'serve',
        '--remote',
        '--public-url',
        'http://localhost:8443',
        '--listen',
        '127.0.0.1:0',
        '--redis',
        redis.url,
        '--json',
      ],
      { ...baseEnv, VALET_CACHE_KEY: CACHE_KEY },
    );
    try {
      const ready = await proc.nextEvent('ready', 20_000);
      expect(ready).toMatchObject({ store: 'redis' });
      const listen = String(ready.listen);
      const registered = await rawRequest(`${listen}/register`, {
        method: 'POST',
        headers: { host: 'localhost:8443', 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'Redis client',
          redirect_uris: ['http://127.0.0.1:53682/callback'],
          token_endpoint_auth_method: 'none',
        }),
      });
      expect(registered.status).toBe(201);
      const clientId = (JSON.parse(registered.body) as { client_id: string }).client_id;
      const plain = await connectAdmin(redis);
      try {
        expect(await plain.exists(`mv:client:${clientId}`)).toBe(1);
      } finally {
        plain.destroy();
      }
      const ready2 = await rawRequest(`${listen}/readyz`, { headers: { host: 'localhost:8443' } });
      expect(ready2.status).toBe(200);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
      await redis.close();
    }
  });

  it('refuses a remote flag without --remote, and --port with --remote, with one line each', async () => {
    const local = await runCli(['serve', '--public-url', 'https://valet.contoso.test'], baseEnv);
    expect(local.code).toBe(1);
    expect(local.stderr.trim()).toBe(
      'mcp-valet: --public-url works only with --remote: add --remote to serve a team, or leave it out',
    );
    const { line } = await refusedWithOneLine([
      '--public-url',
      'http://localhost:8443',
      '--port',
      '1',
    ]);
    expect(line).toContain('--port is for the local endpoint and does not go with --remote');
  });

  it('printed no Entra token', () => {
    expect(seen.size).toBeGreaterThan(4);
    expect(seen.withTokens()).toEqual([]);
  });
});

describe('mcp-valet serve --remote serving tools', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let idp: RunningIdp;
  let graph: RunningGraph;

  beforeAll(async () => {
    dir = await tempDir();
    idp = await startTestIdp({
      apis: [
        {
          appId: REMOTE_CLIENT_ID,
          identifierUris: [`api://${REMOTE_CLIENT_ID}`],
          scopes: ['Valet.Use'],
          preAuthorizedClients: [DEMO_CLIENT_ID],
        },
      ],
      confidentialClients: [
        {
          clientId: REMOTE_CLIENT_ID,
          redirectUris: ['http://localhost/auth/callback'],
          secret: REMOTE_CLIENT_SECRET,
        },
      ],
    });
    await idp.setConsent(DEMO_USERS[0]?.username ?? '', REMOTE_CLIENT_ID, ['User.Read']);
    graph = await startGraphFor(idp);
  });

  afterAll(async () => {
    await graph?.close();
    await idp?.close();
    await dir?.remove();
  });

  it('answers a tool call through the real command: get_user_details with an Entra token, and the call is in the audit log', async () => {
    const port = await freePort();
    const proc = spawnCli(
      [
        'serve',
        '--remote',
        '--public-url',
        `http://localhost:${port}`,
        '--listen',
        `127.0.0.1:${port}`,
        '--auth',
        'entra',
        '--json',
      ],
      cliEnv({
        VALET_DATA_DIR: dir.dir,
        VALET_GRAPH_URL: graph.url,
        VALET_CLIENT_ID: REMOTE_CLIENT_ID,
        VALET_TENANT_ID: idp.tenantId,
        VALET_AUTHORITY: idp.authority,
        VALET_CLIENT_SECRET: REMOTE_CLIENT_SECRET,
      }),
    );
    try {
      const ready = await proc.nextEvent('ready', 20_000);
      const user = DEMO_USERS[0] as IdpUser;
      const { accessToken } = await signInByDeviceCode(idp, DEMO_CLIENT_ID, user, [
        `api://${REMOTE_CLIENT_ID}/Valet.Use`,
      ]);
      const mcp = new Client({ name: 'cli-e2e', version: '1.0.0' });
      await mcp.connect(
        new StreamableHTTPClientTransport(new URL(String(ready.url)), {
          requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
        }),
      );
      const result = await mcp.callTool({ name: 'get_user_details', arguments: {} });
      await mcp.close();
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(JSON.stringify(result.structuredContent)).toContain(user.username);
      proc.child.kill('SIGTERM');
      const exited = await proc.exited;
      expect(exited.code).toBe(0);
      const calls = await auditRecords(join(dir.dir, 'audit'), (r) => r.type === 'tool_call');
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({
        outcome: 'allowed',
        actor: { account: user.username, client: `Entra app ${DEMO_CLIENT_ID}` },
        details: { tool: 'get_user_details' },
      });
    } finally {
      proc.child.kill('SIGKILL');
    }
  });
});
