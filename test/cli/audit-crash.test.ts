import { appendFile, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../main/core/audit/audit-types.ts';
import { DEMO_USERS, type IdpUser } from '../../main/demo/idp/index.ts';
import { idpEnv } from '../support/auth.ts';
import { cliEnv, runCli, spawnCli, type CliProcess } from '../support/cli.ts';
import { useIdpAndGraph } from '../support/fixtures.ts';
import { connectClient } from '../support/valet.ts';

const [adele] = DEMO_USERS as [IdpUser];
const fx = useIdpAndGraph();

const running = new Set<CliProcess>();
afterEach(async () => {
  for (const p of running) p.child.kill('SIGKILL');
  await Promise.all([...running].map((p) => p.exited));
  running.clear();
});

function serve(env: NodeJS.ProcessEnv): CliProcess {
  const p = spawnCli(['serve', '--json'], env);
  running.add(p);
  return p;
}

/** Signs in from the CLI (device code, approved at the test IdP); resolves when `login` exits. */
async function login(env: NodeJS.ProcessEnv): Promise<void> {
  const proc = spawnCli(['login', '--device-code', '--scopes', 'Mail.Read', '--json'], env);
  await fx.idp.approveDeviceCode(
    String((await proc.nextEvent('device_code')).user_code),
    adele.username,
  );
  const done = await proc.exited;
  expect(done.code, done.stderr).toBe(0);
}

async function setUp(): Promise<{ env: NodeJS.ProcessEnv; dataDir: string; secret: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'valet-crash-'));
  await writeFile(
    join(dataDir, 'config.json'),
    JSON.stringify({
      policy: { rateLimits: { requestsPerMinute: 100_000, burst: 10_000, concurrentPerKey: 64 } },
    }),
  );
  const env = cliEnv(
    idpEnv(fx.idp, dataDir, {
      VALET_GRAPH_URL: fx.graph.url,
      VALET_ALLOW_PLAINTEXT_CACHE: '1',
      VALET_PORT: '0',
    }),
  );
  await login(env);
  const key = await runCli(['keys', 'create', '--name', 'crash', '--json'], env);
  return { env, dataDir, secret: String(key.events[0]!.secret) };
}

async function auditRecords(env: NodeJS.ProcessEnv): Promise<AuditRecord[]> {
  const audit = await runCli(['audit', '--json'], env);
  expect(audit.code, audit.stderr).toBe(0);
  return audit.events.map((e) => e.record as AuditRecord);
}

async function verified(env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const result = await runCli(['audit', 'verify', '--json'], env);
  return { code: result.code, ...result.events[0] };
}

/** A call the client can tell apart from every other by its arguments, as the audit log keeps them. */
function callArgs(i: number): { top: number; search: string } {
  return { top: (i % 50) + 1, search: 'q'.repeat(Math.floor(i / 50) + 1) };
}
const signature = (args: { top?: unknown; search?: unknown }) => `${args.top}/${args.search}`;

describe('the audit log through crashes', () => {
  it('holds a record of every result a client saw when the server is killed during 1,000 calls, and verifies after a restart', async () => {
    const { env, secret } = await setUp();
    const victim = serve(env);
    const url = String((await victim.nextEvent('ready')).url);
    const clients = await Promise.all(Array.from({ length: 10 }, () => connectClient(url, secret)));
    const seen: string[] = [];
    let issued = 0;
    let killed = false;
    await Promise.all(
      clients.map(async ({ client }) => {
        while (issued < 1_000) {
          const args = callArgs(issued++);
          if (seen.length >= 500 && !killed) killed = victim.child.kill('SIGKILL');
          try {
            // Calls cut off by the kill would otherwise wait for the SDK's 60 s timeout.
            await client.callTool({ name: 'list_messages', arguments: args }, undefined, {
              timeout: 3_000,
            });
            seen.push(signature({ top: args.top, search: `${args.search.length} chars` }));
          } catch {
            return;
          }
        }
      }),
    );
    expect((await victim.exited).signal).toBe('SIGKILL');
    expect(seen.length).toBeGreaterThanOrEqual(500);
    expect(seen.length).toBeLessThan(1_000);

    // A restart takes the log over at once and goes on with the chain.
    const again = serve(env);
    const { client } = await connectClient(String((await again.nextEvent('ready')).url), secret);
    expect(
      (await client.callTool({ name: 'get_user_details', arguments: {} })).isError,
    ).toBeFalsy();
    again.child.kill('SIGTERM');
    await again.exited;

    expect(await verified(env)).toMatchObject({ code: 0, ok: true });
    const records = await auditRecords(env);
    const audited = new Set(
      records
        .filter((r) => r.type === 'tool_call' && r.details?.tool === 'list_messages')
        .map((r) => signature(r.details?.args as { top?: unknown; search?: unknown })),
    );
    expect(seen.filter((s) => !audited.has(s))).toEqual([]);
    expect(
      records.some((r) => r.type === 'tool_call' && r.details?.tool === 'get_user_details'),
    ).toBe(true);
  });

  it('moves a torn last line aside when the server starts, names the cut in log_recovered, and calls work', async () => {
    const { env, dataDir, secret } = await setUp();
    const active = join(dataDir, 'audit', 'audit.jsonl');
    const torn = '{"seq":9,"time":"2030-01-01T00:00:00.000Z","type":"tool_call","outc';
    await appendFile(active, torn);

    const server = serve(env);
    const { client } = await connectClient(String((await server.nextEvent('ready')).url), secret);
    const result = await client.callTool({ name: 'get_user_details', arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(JSON.stringify(result.content)).toContain(adele.username);
    server.child.kill('SIGTERM');
    await server.exited;

    expect(await verified(env)).toMatchObject({ code: 0, ok: true });
    const records = await auditRecords(env);
    const recovered = records.find((r) => r.type === 'log_recovered');
    const lastGood = records[records.indexOf(recovered!) - 1]!;
    expect(recovered?.details).toMatchObject({
      file: 'audit.jsonl',
      bytes: torn.length,
      lastGoodSeq: lastGood.seq,
      quarantine: expect.stringMatching(/^audit-torn-/),
    });
    const quarantine = join(dataDir, 'audit', String(recovered!.details!.quarantine));
    expect(await readFile(quarantine, 'utf8')).toBe(torn);
    expect((await stat(quarantine)).mode & 0o777).toBe(0o600);
    expect(
      records.some((r) => r.type === 'tool_call' && r.details?.tool === 'get_user_details'),
    ).toBe(true);
  });

  it('keeps the sign_in record of a login right after a server holding the log was killed', async () => {
    const { env } = await setUp();
    const victim = serve(env);
    await victim.nextEvent('ready');
    victim.child.kill('SIGKILL');
    await victim.exited;

    await login(env);
    const signIns = (await auditRecords(env)).filter((r) => r.type === 'sign_in');
    expect(signIns).toHaveLength(2);
    expect(await verified(env)).toMatchObject({ code: 0, ok: true });
  });
});
