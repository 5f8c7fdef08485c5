import { fork } from 'node:child_process';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../main/core/keys/key-format.ts';
import { KeyStore } from '../../../main/core/keys/key-store.ts';
import { writeFileAtomic } from '../../../main/core/util/atomic-file.ts';
import { STAMP_MAX_AGE_MS } from '../../../main/core/util/watched-stamp.ts';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'valet-keys-'));
});

const account = { homeAccountId: 'oid.tid', username: 'adele@contoso.test' };
/** A key for auth_status only, acting as the active account. */
const newKey = (store: KeyStore, name = 'agent') =>
  store.create({ name, tools: ['auth_status'], readOnly: false, account: null });

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
    await newKey(store, 'claude');
    await expect(newKey(store, 'Claude')).rejects.toMatchObject({ code: 'key_exists' });
    await expect(newKey(store, 'a/b')).rejects.toMatchObject({ code: 'invalid_key_name' });
    await expect(store.revoke('nope')).rejects.toMatchObject({
      code: 'no_key',
      message: expect.stringContaining('mcp-valet keys list'),
    });
  });

  it('sees a revocation made by another process at once through the file watch', async () => {
    // The clock stands still, so nothing but the watch can tell the server's store.
    const server = new KeyStore(dataDir, { now: () => 0 });
    const cli = new KeyStore(dataDir, { watch: false });
    const { secret } = await newKey(cli);
    expect('key' in (await server.verify(secret))).toBe(true);
    await cli.revoke('agent');
    let verdict = await server.verify(secret);
    for (let i = 0; i < 300 && 'key' in verdict; i++) {
      await new Promise((r) => setTimeout(r, 10));
      verdict = await server.verify(secret);
    }
    expect(verdict).toMatchObject({ rejected: 'revoked' });
    server.close();
  });

  it('sees a revocation made by another process on the next check once told to reload', async () => {
    const server = new KeyStore(dataDir, { watch: false, now: () => 0 });
    const cli = new KeyStore(dataDir, { watch: false });
    const { key, secret } = await newKey(cli);
    expect(await server.verify(secret)).toEqual({ key });
    await cli.revoke('agent');
    server.reload();
    expect(await server.verify(secret)).toEqual({ rejected: 'revoked', keyId: key.id });
  });

  it('sees a revocation by another process within STAMP_MAX_AGE_MS even when nothing tells it', async () => {
    let now = 0;
    const server = new KeyStore(dataDir, { watch: false, now: () => now });
    const cli = new KeyStore(dataDir, { watch: false });
    const { key, secret } = await newKey(cli);
    expect(await server.verify(secret)).toEqual({ key });
    await cli.revoke('agent');
    now += STAMP_MAX_AGE_MS;
    expect(await server.verify(secret)).toEqual({ rejected: 'revoked', keyId: key.id });
  });

  it('sees its own revocation on the very next check', async () => {
    const store = new KeyStore(dataDir, { watch: false, now: () => 0 });
    const { key, secret } = await newKey(store, 'window');
    expect(await store.verify(secret)).toEqual({ key });
    await store.revoke(key.id);
    expect(await store.verify(secret)).toEqual({ rejected: 'revoked', keyId: key.id });
  });

  it('accepts a key another process has just created on its first use', async () => {
    const server = new KeyStore(dataDir, { watch: false, now: () => 0 });
    expect(await server.list()).toEqual([]);
    const cli = new KeyStore(dataDir, { watch: false });
    const { key, secret } = await cli.create({
      name: 'new',
      tools: ['auth_status'],
      readOnly: true,
      account,
    });
    expect(await server.verify(secret)).toEqual({ key });
  });

  it('refuses a remembered secret once the keys file gives its key another hash', async () => {
    const server = new KeyStore(dataDir, { watch: false, now: () => 0 });
    const { key, secret } = await newKey(server, 'rotated');
    expect(await server.verify(secret)).toEqual({ key });
    // Someone edits keys.json by hand and gives the key a new secret's hash.
    const file = JSON.parse(await readFile(server.path, 'utf8')) as {
      keys: Array<{ hash: string }>;
    };
    file.keys[0]!.hash = hashSecret(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`);
    await writeFileAtomic(server.path, JSON.stringify(file));
    server.reload();
    expect(await server.verify(secret)).toEqual({ rejected: 'unknown' });
  });

  it('refuses another secret with a known key id, also after the right one was checked', async () => {
    const store = new KeyStore(dataDir);
    const { key, secret } = await newKey(store, 'guessed');
    const forged = `${secret.slice(0, -43)}${'x'.repeat(43)}`;
    expect(await store.verify(forged)).toEqual({ rejected: 'unknown' });
    expect(await store.verify(secret)).toEqual({ key });
    expect(await store.verify(forged)).toEqual({ rejected: 'unknown' });
    expect(await store.verify(secret)).toEqual({ key });
    store.close();
  });

  it('hands every check the same frozen key, which no caller can change', async () => {
    const store = new KeyStore(dataDir);
    const { secret } = await store.create({
      name: 'shared',
      tools: ['auth_status', 'get_user_details'],
      readOnly: false,
      account,
    });
    const first = await store.verify(secret);
    const second = await store.verify(secret);
    expect(second).toBe(first);
    if (!('key' in first)) throw new Error('the key was refused');
    const { key } = first;
    expect(await store.get(key.id)).toBe(key);
    expect(() => (key.tools as string[]).push('send_mail')).toThrow(TypeError);
    expect(() => Object.assign(key, { readOnly: true })).toThrow(TypeError);
    expect(() => Object.assign(key.account!, { username: 'mallory@contoso.test' })).toThrow(
      TypeError,
    );
    expect(await store.verify(secret)).toMatchObject({
      key: { tools: ['auth_status', 'get_user_details'], readOnly: false, account },
    });
    store.close();
  });

  it('keeps the secrets it has checked out of what it shows', async () => {
    const store = new KeyStore(dataDir);
    const { secret } = await newKey(store, 'quiet');
    await store.verify(secret);
    const shown = [
      inspect(store, { showHidden: true, depth: 10 }),
      JSON.stringify(store),
      JSON.stringify(await store.list()),
      inspect(await store.verify(secret), { showHidden: true, depth: 10 }),
    ].join('\n');
    expect(shown).not.toContain(secret.slice(-43));
    store.close();
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
    await newKey(store, 'x');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(store.path, '{"version":1,"keys":[{"id":'),
    );
    await expect(
      new KeyStore(dataDir).verify('mvk_000000000000_' + 'a'.repeat(43)),
    ).rejects.toMatchObject({ code: 'keys_damaged' });
  });
});
