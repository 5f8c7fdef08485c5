import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ValetError } from '../util/valet-error.ts';
import type { CacheKey, CacheKeys } from './cache-keys.ts';

/** What every sealed value starts with: the format, so a later one can be told apart. */
const VERSION = 'mv1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals a value for the shared store (a token cache partition, an approval's summary) with
 * AES-256-GCM under the current cache key: `mv1.<key id>.<iv>.<ciphertext>.<tag>`, base64url.
 * `context` (the store key it is written under) is bound in as additional data, so a sealed
 * value copied to another key does not open there.
 */
export function seal(plaintext: string, keys: CacheKeys, context: string): string {
  const { id, key } = keys.current;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.reveal(), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(`${VERSION}.${id}.${context}`));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, id, iv, body, cipher.getAuthTag()]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/**
 * Opens a value `seal` made, with the current key or, while keys rotate, the previous one.
 * Anything else (another key, another context, a changed byte, not a sealed value at all)
 * throws a ValetError that says which, and never quotes the value.
 */
export function open(sealed: string, keys: CacheKeys, context: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION)
    throw new ValetError(
      'sealed_value_invalid',
      `A value in the shared store under ${context} is not sealed by MCP Valet: delete it, or check that every instance runs the same version`,
    );
  const [, id, iv, body, tag] = parts as [string, string, string, string, string];
  const key = keyById(keys, id);
  if (!key)
    throw new ValetError(
      'sealed_value_unknown_key',
      `A value in the shared store under ${context} was sealed with cache key ${id}, which is neither VALET_CACHE_KEY nor VALET_CACHE_KEY_PREVIOUS: give every instance the same keys`,
    );
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key.reveal(), fromB64(iv), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(`${VERSION}.${id}.${context}`));
    decipher.setAuthTag(fromB64(tag));
    return Buffer.concat([decipher.update(fromB64(body)), decipher.final()]).toString('utf8');
  } catch {
    throw new ValetError(
      'sealed_value_tampered',
      `A value in the shared store under ${context} does not open with cache key ${id}: it was changed, or moved from another key; delete it`,
    );
  }
}

/** Whether a value sealed with a key other than the current one should be sealed again. */
export function sealedWithPrevious(sealed: string, keys: CacheKeys): boolean {
  const id = sealed.split('.', 3)[1];
  return id !== undefined && id !== keys.current.id && id === keys.previous?.id;
}

function keyById(keys: CacheKeys, id: string): CacheKey | undefined {
  if (id === keys.current.id) return keys.current;
  if (keys.previous && id === keys.previous.id) return keys.previous;
  return undefined;
}

function fromB64(part: string): Buffer {
  return Buffer.from(part, 'base64url');
}
