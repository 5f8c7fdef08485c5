import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { z } from 'zod';
import { TOOL_NAMES, type ToolName } from '../mcp/tool-definition.ts';
import { readFileIfExists, writeFileAtomic } from '../util/atomic-file.ts';
import { fileStamp } from '../util/file-stamp.ts';
import { ValetError } from '../util/valet-error.ts';
import { generateKey, hashSecret, keyIdOf, secretMatches } from './key-format.ts';

const keySchema = z.object({
  id: z.string(),
  name: z.string(),
  tools: z.array(z.enum(TOOL_NAMES)),
  readOnly: z.boolean(),
  /** null: whoever is the active account when the key is used. */
  account: z.object({ homeAccountId: z.string(), username: z.string() }).nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string().optional(),
  revokedAt: z.string().optional(),
  hash: z.string(),
});
const fileSchema = z.object({ version: z.literal(1), keys: z.array(keySchema) });

/** A valet key as everyone but the store sees it: never the secret or its hash. */
export type ValetKey = Omit<z.infer<typeof keySchema>, 'hash'>;

/** Why a presented key was refused. */
export type KeyRejection = 'missing' | 'malformed' | 'unknown' | 'revoked';

/** What to create. */
export interface NewKey {
  name: string;
  tools: ToolName[];
  readOnly: boolean;
  account: { homeAccountId: string; username: string } | null;
}

/** How often lastUsedAt is written per key: often enough to read, rarely enough to cost nothing. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * The valet keys file (`keys.json`, 0600). Secrets are stored as hashes. Writes are atomic
 * and serialized across processes with a lock file, so the CLI and a running server can
 * both change it; readers re-read when the file's stamp changes, so a revocation made by
 * the CLI takes effect in the server on its next request.
 */
export class KeyStore {
  readonly path: string;
  #cached: { stamp: string; keys: Map<string, z.infer<typeof keySchema>> } | undefined;
  readonly #touched = new Map<string, number>();

  constructor(dataDir: string) {
    this.path = join(dataDir, 'keys.json');
  }

  async create(input: NewKey): Promise<{ key: ValetKey; secret: string }> {
    const name = input.name.trim();
    if (!/^[\w .@-]{1,64}$/.test(name)) {
      throw new ValetError(
        'invalid_key_name',
        `Key name '${input.name}' is not allowed: use 1–64 letters, digits, spaces, dots, @, - or _`,
      );
    }
    const { id, secret } = generateKey();
    const record = {
      id,
      name,
      tools: [...new Set(input.tools)],
      readOnly: input.readOnly,
      account: input.account,
      createdAt: new Date().toISOString(),
      hash: hashSecret(secret),
    };
    await this.#mutate((keys) => {
      if (
        [...keys.values()].some((k) => !k.revokedAt && k.name.toLowerCase() === name.toLowerCase())
      ) {
        throw new ValetError(
          'key_exists',
          `A key named '${name}' already exists: revoke it (\`mcp-valet keys revoke ${name}\`) or choose another name`,
        );
      }
      keys.set(id, record);
    });
    return { key: publicKey(record), secret };
  }

  /** Every key, revoked ones included (they stay for the record), newest first. */
  async list(): Promise<ValetKey[]> {
    return [...(await this.#read()).values()]
      .map(publicKey)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async get(id: string): Promise<ValetKey | undefined> {
    const found = (await this.#read()).get(id);
    return found && publicKey(found);
  }

  /** Revokes a key by id or by the name of an active key. */
  async revoke(ref: string): Promise<ValetKey> {
    let revoked: ValetKey | undefined;
    await this.#mutate((keys) => {
      const found =
        keys.get(ref) ??
        [...keys.values()].find((k) => !k.revokedAt && k.name.toLowerCase() === ref.toLowerCase());
      if (!found)
        throw new ValetError(
          'no_key',
          `No key matches '${ref}': run \`mcp-valet keys list\` to see the ids`,
        );
      found.revokedAt ??= new Date().toISOString();
      revoked = publicKey(found);
    });
    return revoked!;
  }

  /** Checks a presented secret: the key when it is valid, else why it is not. */
  async verify(
    secret: string | undefined,
  ): Promise<{ key: ValetKey } | { rejected: KeyRejection; keyId?: string }> {
    if (!secret) return { rejected: 'missing' };
    const id = keyIdOf(secret);
    if (!id) return { rejected: 'malformed' };
    const found = (await this.#read()).get(id);
    if (!found || !secretMatches(secret, found.hash)) return { rejected: 'unknown' };
    if (found.revokedAt) return { rejected: 'revoked', keyId: id };
    return { key: publicKey(found) };
  }

  /** Records that a key was used; written at most once a minute per key, off the request path. */
  touch(id: string, onError: (err: unknown) => void): void {
    const now = Date.now();
    if (now - (this.#touched.get(id) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.#touched.set(id, now);
    this.#mutate((keys) => {
      const found = keys.get(id);
      if (found) found.lastUsedAt = new Date(now).toISOString();
    }).catch(onError);
  }

  async #read(): Promise<Map<string, z.infer<typeof keySchema>>> {
    const stamp = fileStamp(this.path);
    if (this.#cached?.stamp === stamp) return this.#cached.keys;
    const keys = parseKeys(
      stamp === 'none' ? undefined : await readFileIfExists(this.path),
      this.path,
    );
    this.#cached = { stamp, keys };
    return keys;
  }

  async #mutate(change: (keys: Map<string, z.infer<typeof keySchema>>) => void): Promise<void> {
    // proper-lockfile locks an existing file; create it (empty) on first use.
    await writeFile(this.path, '', { flag: 'a', mode: 0o600 });
    const release = await lockfile.lock(this.path, {
      retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
      stale: 10_000,
    });
    try {
      const keys = parseKeys(await readFileIfExists(this.path), this.path);
      change(keys);
      await writeFileAtomic(
        this.path,
        `${JSON.stringify({ version: 1, keys: [...keys.values()] }, null, 2)}\n`,
      );
      this.#cached = undefined;
    } finally {
      await release();
    }
  }
}

function parseKeys(text: string | undefined, path: string): Map<string, z.infer<typeof keySchema>> {
  if (!text || !text.trim()) return new Map();
  let parsed: z.infer<typeof fileSchema>;
  try {
    parsed = fileSchema.parse(JSON.parse(text));
  } catch {
    // Refuse to guess: a damaged keys file must not silently grant or drop access.
    throw new ValetError(
      'keys_damaged',
      `The valet keys file ${path} is damaged: restore it from a backup, or move it aside and create new keys`,
    );
  }
  return new Map(parsed.keys.map((k) => [k.id, k]));
}

function publicKey(record: z.infer<typeof keySchema>): ValetKey {
  const { hash: _hash, ...rest } = record;
  return {
    ...rest,
    tools: [...rest.tools],
    ...(rest.account ? { account: { ...rest.account } } : {}),
  };
}
