import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { z } from 'zod';
import { TOOL_NAMES, type ToolName } from '../mcp/tool-definition.ts';
import { readFileIfExists, writeFileAtomic } from '../util/atomic-file.ts';
import { ValetError } from '../util/valet-error.ts';
import { WatchedStamp, type WatchedStampOptions } from '../util/watched-stamp.ts';
import { generateKey, hashSecret, keyIdOf } from './key-format.ts';
import { VerifiedSecrets } from './verified-secrets.ts';

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

type KeyRecord = z.infer<typeof keySchema>;

/**
 * A valet key as everyone but the store sees it: never the secret or its hash. The store
 * hands out one frozen object per key and version of the file, shared by every request.
 */
export type ValetKey = Omit<KeyRecord, 'hash'>;

/** Why a presented key was refused. */
export type KeyRejection = 'missing' | 'malformed' | 'unknown' | 'revoked';

/** The answer of `verify`. */
export type KeyVerdict = { key: ValetKey } | { rejected: KeyRejection; keyId?: string };

/** What to create. */
export interface NewKey {
  name: string;
  tools: ToolName[];
  readOnly: boolean;
  account: { homeAccountId: string; username: string } | null;
}

/** Settings of the store beyond its folder; tests turn the file watch off and drive the clock. */
export type KeyStoreOptions = WatchedStampOptions;

/** How often lastUsedAt is written per key: often enough to read, rarely enough to cost nothing. */
const TOUCH_INTERVAL_MS = 60_000;

const MISSING: KeyVerdict = Object.freeze({ rejected: 'missing' as const });
const MALFORMED: KeyVerdict = Object.freeze({ rejected: 'malformed' as const });
const UNKNOWN: KeyVerdict = Object.freeze({ rejected: 'unknown' as const });

/** One key as read from the file, with what verify and get hand out for it. */
interface Entry {
  record: KeyRecord;
  key: ValetKey;
  verdict: KeyVerdict;
}

/**
 * The valet keys file (`keys.json`, 0600). Secrets are stored as hashes. Writes are atomic
 * and serialized across processes with a lock file, so the CLI and a running server can
 * both change it. The keys are kept in memory and read again when the file changes: at once
 * after this store's own writes and when told (`reload`, e.g. by the CLI through the control
 * API), as soon as the directory watch reports it, and within STAMP_MAX_AGE_MS at worst. A key
 * not known yet, or a secret that does not match, is looked up in the file again before it is
 * refused, so a key created by another process works at once.
 */
export class KeyStore {
  readonly path: string;
  readonly #stamp: WatchedStamp;
  readonly #secrets = new VerifiedSecrets();
  #cached: { stamp: string; entries: Map<string, Entry> } | undefined;
  readonly #touched = new Map<string, number>();

  constructor(dataDir: string, options: KeyStoreOptions = {}) {
    this.path = join(dataDir, 'keys.json');
    this.#stamp = new WatchedStamp(this.path, options);
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
    const record: KeyRecord = {
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
      .map((e) => e.key)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async get(id: string): Promise<ValetKey | undefined> {
    return (await this.#read()).get(id)?.key;
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

  /**
   * Another process changed the keys file (the CLI revoked a key): read it again before the
   * next check, whatever the file system has reported so far.
   */
  reload(): void {
    this.#stamp.invalidate();
  }

  /** Checks a presented secret: the key when it is valid, else why it is not. */
  async verify(secret: string | undefined): Promise<KeyVerdict> {
    if (!secret) return MISSING;
    const id = keyIdOf(secret);
    if (!id) return MALFORMED;
    let found = (await this.#read()).get(id);
    if (!found || !this.#secrets.matches(id, secret, found.record.hash)) {
      // Not in memory yet, perhaps: another process may have just created it.
      this.#stamp.invalidate();
      found = (await this.#read()).get(id);
      if (!found || !this.#secrets.matches(id, secret, found.record.hash)) return UNKNOWN;
    }
    return found.verdict;
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

  /** Stops watching the file. */
  close(): void {
    this.#stamp.close();
  }

  async #read(): Promise<Map<string, Entry>> {
    const stamp = this.#stamp.current();
    if (this.#cached?.stamp === stamp) return this.#cached.entries;
    const records = parseKeys(
      stamp === 'none' ? undefined : await readFileIfExists(this.path),
      this.path,
    );
    const entries = new Map<string, Entry>();
    for (const [id, record] of records) {
      const key = publicKey(record);
      entries.set(id, {
        record,
        key,
        verdict: Object.freeze(
          record.revokedAt ? { rejected: 'revoked' as const, keyId: id } : { key },
        ),
      });
    }
    // A key revoked or changed since must not pass on a remembered secret.
    this.#secrets.clear();
    this.#cached = { stamp, entries };
    return entries;
  }

  async #mutate(change: (keys: Map<string, KeyRecord>) => void): Promise<void> {
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
    } finally {
      // Whatever reached the file, this process reads it again before the next check.
      this.#cached = undefined;
      this.#stamp.invalidate();
      await release();
    }
  }
}

function parseKeys(text: string | undefined, path: string): Map<string, KeyRecord> {
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

/** The key without its hash, frozen all through: callers share it and cannot change it. */
function publicKey(record: KeyRecord): ValetKey {
  const { hash: _hash, ...rest } = record;
  return Object.freeze({
    ...rest,
    tools: Object.freeze([...rest.tools]) as ToolName[],
    account: rest.account && Object.freeze({ ...rest.account }),
  });
}
