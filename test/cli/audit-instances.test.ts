import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../main/core/audit/audit-log.ts';
import type { AuditEvent } from '../../main/core/audit/audit-types.ts';
import { loadConfig } from '../../main/core/config/load-config.ts';
import { cacheKeyOf } from '../../main/core/remote/cache-keys.ts';
import { createRemoteCore } from '../../main/core/remote/mcp/remote-core.ts';
import { openRedisStore } from '../../main/core/remote/store/redis-store.ts';
import { silentLogger } from '../../main/core/util/logger.ts';
import { cliEnv, runCli } from '../support/cli.ts';
import {
  connectAdmin,
  startRedisServer,
  type AdminClient,
  type TestRedis,
} from '../support/redis-server.ts';
import { tempDir } from '../support/remote-server.ts';

function toolCall(n: number): AuditEvent {
  return {
    type: 'tool_call',
    actor: { keyId: 'k1', keyName: 'Laptop', oid: 'oid-1' },
    outcome: 'allowed',
    details: { tool: 'list_messages', durationMs: n },
  };
}

/** Writes `count` records into a chain folder of its own (as VALET_AUDIT_DIR holds one). */
async function writeChain(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const log = new AuditLog(dir, { exactDir: true });
  await log.holdExclusive();
  for (let i = 1; i <= count; i++) await log.append(toolCall(i));
  await log.close();
}

/** The lines of a chain's active file, and a way to write them back. */
async function chainLines(dir: string) {
  const file = join(dir, 'audit.jsonl');
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  return { lines, save: (kept: string[]) => writeFile(file, kept.map((l) => `${l}\n`).join('')) };
}

describe('mcp-valet audit verify --dir, over the chains of several instances', () => {
  let root: { dir: string; remove: () => Promise<void> };
  let env: NodeJS.ProcessEnv;

  /** `audit verify` of the chains web-1 and web-2, each named by its instance. */
  const verifyBoth = () => [
    'audit',
    'verify',
    ...['web-1', 'web-2'].flatMap((id) => ['--dir', `${id}=${join(root.dir, id)}`]),
  ];

  beforeEach(async () => {
    root = await tempDir();
    env = cliEnv({ VALET_DATA_DIR: join(root.dir, 'desktop') });
    return () => root.remove();
  });

  it('verifies each chain it is given and says so, exit 0', async () => {
    await writeChain(join(root.dir, 'web-1'), 5);
    await writeChain(join(root.dir, 'web-2'), 3);
    const result = await runCli(verifyBoth(), env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /^web-1: intact: 5 records \(1–5\) in .*web-1, the last one's hash [0-9a-f]{16}…\.$/m,
    );
    expect(result.stderr).toMatch(/^web-2: intact: 3 records \(1–3\) in .*web-2/m);
    expect(result.stderr).toContain('All 2 audit chains are intact.');
  });

  it('names the one tampered chain of two, with its record and why, and exits 1', async () => {
    await writeChain(join(root.dir, 'web-1'), 5);
    await writeChain(join(root.dir, 'web-2'), 5);
    const { lines, save } = await chainLines(join(root.dir, 'web-2'));
    lines[2] = lines[2]!.replace('"outcome":"allowed"', '"outcome":"denied"');
    await save(lines);

    const args = verifyBoth();
    const result = await runCli(args, env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^web-1: intact: 5 records/m);
    expect(result.stderr).toMatch(
      /^web-2: tampered with or damaged: record 3 \(audit\.jsonl line 3 in .*web-2\) was edited: its content does not match its hash\. The 2 records before it are intact\.$/m,
    );
    expect(result.stderr).toContain('1 of 2 audit chains failed verification.');

    const json = await runCli([...args, '--json'], env);
    expect(json.code).toBe(1);
    expect(json.events.map((e) => [e.instance, e.ok])).toEqual([
      ['web-1', true],
      ['web-2', false],
    ]);
    expect(json.events[0]).toMatchObject({
      event: 'audit_verified',
      records: 5,
      last: { seq: 5, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(json.events[1]).toMatchObject({ bad: { seq: 3, file: 'audit.jsonl', line: 3 } });
  });

  it('takes an instance’s data dir for its chain, and refuses a folder that does not exist', async () => {
    await writeChain(join(root.dir, 'data', 'audit'), 2);
    const found = await runCli(['audit', 'verify', '--dir', join(root.dir, 'data')], env);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stderr).toMatch(/intact: 2 records \(1–2\) in .*data\/audit/);

    const missing = await runCli(['audit', 'verify', '--dir', join(root.dir, 'nowhere')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `There is no audit chain folder at ${join(root.dir, 'nowhere')}`,
    );
  });
});

describe('mcp-valet audit verify --dir … --redis, against the heads instances published', () => {
  let redis: TestRedis;
  let admin: AdminClient;
  let root: { dir: string; remove: () => Promise<void> };
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = await connectAdmin(redis);
  });
  afterAll(async () => {
    admin?.destroy();
    await redis?.close();
  });
  beforeEach(async () => {
    await admin.flushAll();
    root = await tempDir();
    env = cliEnv({ VALET_DATA_DIR: join(root.dir, 'desktop'), VALET_REDIS_PREFIX: 'team:' });
    return () => root.remove();
  });

  /** Runs an instance's core over Redis, writes `count` tool calls, and stops it: its head is published. */
  async function runInstance(instanceId: string, count: number): Promise<string> {
    const chain = join(root.dir, instanceId);
    const store = await openRedisStore({ url: redis.url, prefix: 'team:' });
    const core = createRemoteCore({
      settings: { ...(await loadConfig({ VALET_DATA_DIR: root.dir })), instanceId },
      auditDir: chain,
      store,
      publicUrl: 'https://valet.example',
      cacheKeys: { current: cacheKeyOf(randomBytes(32)) },
      logger: silentLogger,
    });
    await mkdir(chain, { recursive: true });
    for (let i = 1; i <= count; i++) await core.runner.audit(toolCall(i));
    await core.close();
    await store.close();
    expect(await admin.hGet(`team:audit:head:${instanceId}`, 'seq')).toBe(String(count));
    return chain;
  }

  const verify = (...chains: string[]) =>
    runCli(['audit', 'verify', ...chains.flatMap((c) => ['--dir', c]), '--redis', redis.url], env);

  it('passes chains that hold the head their instance published', async () => {
    const web1 = await runInstance('web-1', 4);
    const web2 = await runInstance('web-2', 6);
    const result = await verify(`web-1=${web1}`, `web-2=${web2}`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /^web-1: intact: 4 records .*; it holds record 4, the head its instance published\.$/m,
    );
    expect(result.stderr).toMatch(/^web-2: intact: 6 records .*; it holds record 6/m);
  });

  it('catches a chain cut short after its head was published, though what is left still chains together', async () => {
    const web1 = await runInstance('web-1', 4);
    const web2 = await runInstance('web-2', 6);
    const { lines, save } = await chainLines(web2);
    await save(lines.slice(0, 5));
    expect((await verify(`web-2=${web2}`)).stderr).toMatch(
      /^web-2: .*published record 6 as its head: record 6 was cut off\./m,
    );
    await save(lines.slice(0, 4));
    // On its own the shortened chain verifies: only the published head shows what is gone.
    const alone = await runCli(['audit', 'verify', '--dir', `web-2=${web2}`], env);
    expect(alone.code, alone.stderr).toBe(0);

    const result = await verify(`web-1=${web1}`, `web-2=${web2}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^web-1: intact: 4 records/m);
    expect(result.stderr).toMatch(
      /^web-2: does not match the head its instance published: the chain ends at record 4, but instance web-2 published record 6 as its head: records 5–6 were cut off\./m,
    );
    expect(result.stderr).toContain('1 of 2 audit chains failed verification.');
  });

  it('catches a chain rewritten in full, which chains together but is not the one published', async () => {
    const web1 = await runInstance('web-1', 3);
    const forged = join(root.dir, 'forged');
    await writeChain(forged, 3);
    const result = await verify(`web-1=${forged}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^web-1: does not match the head its instance published: record 3 is not the record instance web-1 published as its head \(its hash differs\)/m,
    );
    expect((await verify(`web-1=${web1}`)).code).toBe(0);
  });

  it('fails a chain whose instance published no head, and refuses a chain not named by its instance and --redis without --dir', async () => {
    const chain = join(root.dir, 'web-9');
    await writeChain(chain, 2);
    const unknown = await verify(`web-9=${chain}`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('instance web-9 has published no chain head');

    const unnamed = await verify(chain);
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toContain(
      `--redis compares each chain with the head its instance published: name the instance writing ${chain} as --dir <instance-id>=${chain}`,
    );
    const none = await runCli(['audit', 'verify', '--redis', redis.url], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('--redis checks the chains given with --dir');
  });
});
