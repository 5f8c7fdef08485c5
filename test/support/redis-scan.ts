import { createClient, RESP_TYPES } from 'redis';

/** Everything a Redis held at one moment: each key's name and every byte of its value. */
export interface RedisDump {
  /** Key name → its type and the raw bytes of its value (fields, members and scores included). */
  keys: Map<string, { type: string; bytes: Buffer }>;
}

/**
 * Reads every key of the Redis at `url` as bytes, as someone with a copy of the data would:
 * SCAN for the names, then GET, HGETALL, SMEMBERS, ZRANGE, LRANGE or XRANGE by type. No value is
 * decoded as text, so nothing is hidden by a failed decoding.
 */
export async function dumpRedis(url: string): Promise<RedisDump> {
  const client = createClient({ url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await client.connect();
  try {
    const keys = new Map<string, { type: string; bytes: Buffer }>();
    let cursor = '0';
    do {
      const page = await client.scan(cursor, { COUNT: 500 });
      cursor = String(page.cursor);
      for (const raw of page.keys) {
        const name = String(raw);
        const type = String(await client.type(name));
        keys.set(name, { type, bytes: await valueBytes(client, name, type) });
      }
    } while (cursor !== '0');
    return { keys };
  } finally {
    client.destroy();
  }
}

type BufferClient = ReturnType<ReturnType<typeof createClient>['withTypeMapping']>;

async function valueBytes(client: BufferClient, key: string, type: string): Promise<Buffer> {
  const parts: unknown[] = [];
  switch (type) {
    case 'string':
      parts.push(await client.get(key));
      break;
    case 'hash':
      parts.push(await client.sendCommand(['HGETALL', key]));
      break;
    case 'set':
      parts.push(await client.sendCommand(['SMEMBERS', key]));
      break;
    case 'zset':
      parts.push(await client.sendCommand(['ZRANGE', key, '0', '-1', 'WITHSCORES']));
      break;
    case 'list':
      parts.push(await client.sendCommand(['LRANGE', key, '0', '-1']));
      break;
    case 'stream':
      parts.push(await client.sendCommand(['XRANGE', key, '-', '+']));
      break;
    default:
      throw new Error(`Key ${key} has a type the scan does not read: ${type}`);
  }
  return Buffer.concat(flatten(parts));
}

function flatten(value: unknown): Buffer[] {
  if (value === null || value === undefined) return [];
  if (Buffer.isBuffer(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(flatten);
  if (value instanceof Map) return [...value.entries()].flatMap(flatten);
  if (typeof value === 'object') return Object.entries(value).flatMap(flatten);
  return [Buffer.from(String(value))];
}

/**
 * The needles found in the dump, each with the first key that holds it (in its name or its
 * bytes): what must never be there comes back as `{ needle: key }` pairs, empty when clean. A
 * pattern is matched against the bytes read as Latin-1, one character a byte.
 */
export function findInDump(
  dump: RedisDump,
  needles: Record<string, string | Buffer | RegExp>,
): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [label, needle] of Object.entries(needles)) {
    const holds = needleIn(needle, label);
    for (const [key, value] of dump.keys) {
      if (holds(Buffer.from(key)) || holds(value.bytes)) {
        found[label] = key;
        break;
      }
    }
  }
  return found;
}

function needleIn(needle: string | Buffer | RegExp, label: string): (bytes: Buffer) => boolean {
  if (needle instanceof RegExp) return (bytes) => needle.test(bytes.toString('latin1'));
  const wanted = Buffer.isBuffer(needle) ? needle : Buffer.from(needle);
  if (wanted.length === 0) throw new Error(`The needle ${label} is empty`);
  return (bytes) => bytes.includes(wanted);
}
