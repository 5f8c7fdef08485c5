import { fork } from 'node:child_process';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { KeyStore } from '../../../main/core/keys/key-store.ts';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'valet-keys-'));
});

const account = { homeAccountId: 'oid.tid', username: 'adele@contoso.test' };

describe('KeyStore', () => {
  it('stores a hash, never the secret, in an owner-only file', async () => {
    const store = new KeyStore(dataDir);
    const { key, secret } = await store.create({
      name: 'vscode',
      tools: ['get_user_details'],
      readOnly: false,
      account,
    });
    expect(secret).toMatch(/^mvk_[0-9a-f]{12}_[\w-]{43}$/);
    expect(secret).toContain(key.id);
    const file = await readFile(store.path, 'utf8');
    expect(file).not.toContain(secret);
    expect(file).not.toContain(secret.slice(-43));
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    expect(key).not.toHaveProperty('hash');
    expect(await store.verify(secret)).toEqual({ key });
  });

  it('tells missing, malformed, unknown and revoked keys apart', async () => {
    const store = new KeyStore(dataDir);
    const { key, secret } = await store.create({
      name: 'cursor',
      tools: ['list_messages'],
      readOnly: true,
      account: null,
    });
    expect(await store.verify(undefined)).toEqual({ rejected: 'missing' });
    expect(await store.verify('hunter2')).toEqual({ rejected: 'malformed' });
    expect(await store.verify(secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A'))).toEqual({
      rejected: 'unknown',
    });
    await store.revoke('cursor');
    expect(await store.verify(secret)).toEqual({ rejected: 'revoked', keyId: key.id });
    expect((await store.list())[0]?.revokedAt).toBeDefined();
  });

  it('refuses a second active key with the same name, and bad names', async () => {
    const store = new KeyStore(dataDir);
    await store.create({ name: 'claude', tools: ['auth_status'], readOnly: false, account: null });
    await expect(
      store.create({ name: 'Claude', tools: ['auth_status'], readOnly: false, account: null }),
    ).rejects.toMatchObject({ code: 'key_exists' });
    await expect(
      store.create({ name: 'a/b', tools: ['auth_status'], readOnly: false, account: null }),
    ).rejects.toMatchObject({ code: 'invalid_key_name' });
    await expect(store.revoke('nope')).rejects.toMatchObject({
      code: 'no_key',
      message: expect.stringContaining('mcp-valet keys list'),
    });
  });

  it('sees a revocation made by another store (another process) on the next check', async () => {
    const server = new KeyStore(dataDir);
    const cli = new KeyStore(dataDir);
    const { secret } = await cli.create({
      name: 'agent',
      tools: ['auth_status'],
      readOnly: false,
      account: null,
    });
    expect('key' in (await server.verify(secret))).toBe(true);
    await cli.revoke('agent');
    expect(await server.verify(secret)).toMatchObject({ rejected: 'revoked' });
  });

  it('loses no key when several processes create keys at the same time', async () => {
    const worker = fileURLToPath(new URL('./create-keys-worker.ts', import.meta.url));
    const runs = Array.from(
      { length: 4 },
      (_, i) =>
        new Promise<number | null>((resolve) =>
          fork(worker, [dataDir, `p${i}`, '5'], { stdio: 'inherit', execArgv: [] }).on(
            'exit',
            resolve,
          ),
        ),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0, 0]);
    const names = (await new KeyStore(dataDir).list()).map((k) => k.name).sort();
    expect(names).toHaveLength(20);
    expect(new Set(names).size).toBe(20);
  });

  it('refuses to guess when the file is damaged', async () => {
    const store = new KeyStore(dataDir);
    await store.create({ name: 'x', tools: ['auth_status'], readOnly: false, account: null });
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(store.path, '{"version":1,"keys":[{"id":'),
    );
    await expect(
      new KeyStore(dataDir).verify('mvk_000000000000_' + 'a'.repeat(43)),
    ).rejects.toMatchObject({ code: 'keys_damaged' });
  });
});
