import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli, spawnCli } from '../support/cli.ts';
import {
  OFFLINE_AUTHORITY,
  REMOTE_CLIENT_ID,
  ResponseLog,
  rawRequest,
  tempDir,
  writeAuthorityMetadata,
  writeTlsFiles,
} from '../support/remote-server.ts';

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

  it('stops at --redis with one line saying the Redis store comes later and what works now', async () => {
    const { line, event } = await refusedWithOneLine([
      '--public-url',
      'http://localhost:8443',
      '--redis',
      'redis://127.0.0.1:6379',
    ]);
    expect(line).toContain('The shared Redis store arrives in a later version');
    expect(line).toContain('one instance, with its shared state in memory');
    expect(event).toMatchObject({ code: 'redis_unavailable' });
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
