import { TOOL_NAMES } from '../../../main/core/mcp/tool-definition.ts';

/** A small seeded generator (mulberry32): the same seed gives the same cases. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** The generator for case `index` of a run seeded with `seed`, whatever order cases run in. */
export function randomFor(seed: number, index: number): Random {
  return new Random((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
}

/** Where a case's request goes and how it is sent. */
export interface FuzzCase {
  /** A short description, printed with the seed when the case fails. */
  what: string;
  method: string;
  /** Which session header to send: a pooled session of the key, a made-up one, or none. */
  session: 'pool' | 'bogus' | 'other-key' | 'none';
  /** Which credential to send. */
  auth: 'key' | 'none' | 'wrong-secret' | 'garbage';
  headers: Record<string, string>;
  body?: Buffer;
  /** Send this many bytes of the body, then hang up (`destroy`) or half-close (`end`). */
  partial?: { bytes: number; then: 'destroy' | 'end' };
  /** Send the body twice at once on the same session (same JSON-RPC ids). */
  twice?: boolean;
}

const METHODS = [
  'initialize',
  'ping',
  'tools/list',
  ...Array<string>(10).fill('tools/call'),
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'resources/list',
  'prompts/get',
  'logging/setLevel',
  'completion/complete',
  '',
  '__proto__',
  'constructor',
  'tools/call\u0000',
  'x'.repeat(300),
];
const TOOLS = [...TOOL_NAMES, 'nope', '__proto__', 'constructor', '', '../get_message'];

/** Arguments a tool accepts, as the starting point of a mutation. */
const TEMPLATES: Record<string, Record<string, unknown>> = {
  get_user_details: {},
  auth_status: {},
  list_messages: { top: 5, folder: 'inbox', unreadOnly: false },
  get_message: { id: 'AAMkAGI2TAAA=' },
  list_events: { start: '2026-01-01T00:00:00Z', end: '2026-01-08T00:00:00Z' },
  search_files: { query: 'report', top: 3 },
  search_people: { query: 'a' },
  send_mail: { to: ['alex@contoso.test'], subject: 'Hello', body: 'A short note.' },
  create_event: {
    subject: 'Sync',
    start: '2027-01-01T10:00:00Z',
    end: '2027-01-01T10:30:00Z',
    attendees: ['alex@contoso.test'],
  },
};

const STRINGS = [
  '',
  ' ',
  'a',
  '../../users/x',
  '%2e%2e/%2e%2e',
  "' or 1 eq 1",
  'javascript:alert(1)',
  '\u202e\u200b\u2066hidden',
  '\ud800',
  '\udfff\ud800',
  '😀'.repeat(50),
  'https://evil.example/beacon.png',
  '${process.env}',
  '__proto__',
  'null',
  '\u0000\u0001\u001f',
];

/** A random JSON value as text; objects may carry __proto__ and constructor keys. */
function jsonText(r: Random, depth: number): string {
  const kind = depth <= 0 ? r.int(5) : r.int(8);
  switch (kind) {
    case 0:
      return r.pick(['null', 'true', 'false']);
    case 1:
      return r.pick([
        '0',
        '-0',
        '1',
        '-1',
        '1.5',
        '1e308',
        '-1e308',
        '9007199254740993',
        '1e-400',
        String(r.int(1_000_000)),
        '123456789012345678901234567890',
      ]);
    case 2:
    case 3:
      return JSON.stringify(r.pick(STRINGS));
    case 4:
      return JSON.stringify('x'.repeat(r.pick([10, 1_000, 60_000])));
    case 5: {
      const n = r.int(5);
      return `[${Array.from({ length: n }, () => jsonText(r, depth - 1)).join(',')}]`;
    }
    default: {
      const n = r.int(5);
      const keys = ['a', 'id', 'name', '__proto__', 'constructor', 'prototype', 'toString', ''];
      return `{${Array.from(
        { length: n },
        () => `${JSON.stringify(r.pick(keys))}:${jsonText(r, depth - 1)}`,
      ).join(',')}}`;
    }
  }
}

/** A tool's arguments with a few fields replaced, dropped, added or poisoned. */
function argumentsText(r: Random, tool: string): string {
  const base = { ...(TEMPLATES[tool] ?? {}) };
  const fields: Array<[string, string]> = Object.entries(base).map(([k, v]) => [
    k,
    JSON.stringify(v),
  ]);
  const mutations = r.chance(0.5) ? 0 : 1 + r.int(3);
  for (let i = 0; i < mutations; i++) {
    const at = fields.length ? r.int(fields.length) : -1;
    switch (r.int(5)) {
      case 0:
        if (at >= 0) fields[at]![1] = jsonText(r, 2);
        break;
      case 1:
        if (at >= 0) fields.splice(at, 1);
        break;
      case 2:
        fields.push([r.pick(['extra', 'top', 'id', 'to', '$filter']), jsonText(r, 2)]);
        break;
      case 3:
        fields.push(['__proto__', `{"isAdmin":true,"tools":["send_mail"],"polluted":1}`]);
        break;
      default:
        if (at >= 0) fields[at]![1] = JSON.stringify(r.pick(STRINGS));
    }
  }
  const object = `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  return r.chance(0.05) ? jsonText(r, 2) : object;
}

/** A JSON-RPC id, usually valid, sometimes of a type JSON-RPC does not allow. */
function idText(r: Random): string | undefined {
  if (r.chance(0.05)) return undefined;
  if (r.chance(0.85)) return r.chance(0.8) ? String(r.int(50)) : JSON.stringify(`id-${r.int(50)}`);
  return r.pick([
    'null',
    '"a"',
    '""',
    '1.5',
    '-1',
    'true',
    '{}',
    '[]',
    '1e400',
    `"${'i'.repeat(5000)}"`,
  ]);
}

/** One JSON-RPC message as text, with its fields mutated. */
function messageText(r: Random, method = r.pick(METHODS)): string {
  const fields: string[] = [];
  if (!r.chance(0.02)) fields.push(`"jsonrpc":${r.chance(0.97) ? '"2.0"' : jsonText(r, 1)}`);
  const id = idText(r);
  if (id !== undefined && !method.startsWith('notifications/')) fields.push(`"id":${id}`);
  if (!r.chance(0.02)) fields.push(`"method":${JSON.stringify(method)}`);
  let params: string | undefined;
  if (method === 'initialize')
    params = `{"protocolVersion":${r.pick(['"2025-06-18"', '"2025-03-26"', '"1999-01-01"', '7'])},"capabilities":${r.chance(0.9) ? '{}' : jsonText(r, 2)},"clientInfo":${r.chance(0.9) ? '{"name":"fuzz","version":"1"}' : jsonText(r, 2)}}`;
  else if (method.startsWith('tools/call')) {
    const tool = r.chance(0.85) ? r.pick(TOOL_NAMES) : r.pick(TOOLS);
    params = `{"name":${r.chance(0.95) ? JSON.stringify(tool) : jsonText(r, 1)},"arguments":${argumentsText(r, tool)}${r.chance(0.1) ? ',"_meta":{"progressToken":' + jsonText(r, 1) + '}' : ''}}`;
  } else if (method === 'notifications/cancelled')
    params = `{"requestId":${idText(r) ?? '1'},"reason":"fuzz"}`;
  else if (r.chance(0.5)) params = jsonText(r, 3);
  if (params !== undefined && !r.chance(0.03)) fields.push(`"params":${params}`);
  if (r.chance(0.03)) fields.push(`"__proto__":{"method":"tools/call","id":1}`);
  if (r.chance(0.02)) fields.push(`"result":{}`);
  // Shuffle: key order must not matter.
  for (let i = fields.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [fields[i], fields[j]] = [fields[j]!, fields[i]!];
  }
  return `{${fields.join(',')}}`;
}

/** Raw bytes that are not UTF-8 (or encode what UTF-8 forbids), for inside a string. */
const BAD_UTF8 = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0x80],
  [0xf0, 0x9f, 0x98],
];

/** The body of a case: one message, a batch, a deep nest, a huge string, or plain junk. */
function bodyFor(r: Random): { what: string; body: Buffer } {
  const kind = r.int(100);
  if (kind < 45) return { what: 'message', body: Buffer.from(messageText(r)) };
  if (kind < 60) {
    const n = r.pick([0, 1, 2, 3, 5, 10, 50, 200]);
    const items = Array.from({ length: n }, () =>
      r.chance(0.1) ? jsonText(r, 2) : messageText(r, r.pick(['ping', 'tools/list', 'tools/call'])),
    );
    if (n > 1 && r.chance(0.3)) items.push(items[0]!);
    return { what: `batch of ${items.length}`, body: Buffer.from(`[${items.join(',')}]`) };
  }
  if (kind < 67) {
    const depth = r.pick([100, 1_000, 10_000, 100_000, 400_000]);
    const nest = r.chance(0.5)
      ? `${'['.repeat(depth)}${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const body = r.chance(0.5)
      ? nest
      : `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_message","arguments":{"id":${nest}}}}`;
    return { what: `nesting ${depth} deep`, body: Buffer.from(body) };
  }
  if (kind < 74) {
    const size = r.pick([100_000, 500_000, 1_000_000, 1_048_000, 1_100_000, 3_000_000]);
    const text = r.chance(0.5) ? 'x'.repeat(size) : '\\u00e9'.repeat(Math.floor(size / 6));
    return {
      what: `string of ${size} bytes`,
      body: Buffer.from(
        `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"${r.pick(TOOLS)}","arguments":{"query":"${text}","id":"${text.slice(0, 100)}"}}}`,
      ),
    };
  }
  if (kind < 84) {
    const text = Buffer.from(messageText(r, r.pick(['tools/call', 'initialize', 'ping'])));
    const quote = text.indexOf('"', 1 + r.int(Math.max(1, text.length - 1)));
    const at = quote > 0 ? quote + 1 : r.int(text.length + 1);
    const bad = Buffer.from(r.pick(BAD_UTF8));
    return {
      what: 'invalid UTF-8',
      body: Buffer.concat([text.subarray(0, at), bad, text.subarray(at)]),
    };
  }
  const junk = [
    '',
    'null',
    '1',
    '"str"',
    '[]',
    '{}',
    '[[]]',
    '{"jsonrpc":"2.0"}',
    '{"jsonrpc":"2.0","id":1,"method":"ping"} trailing',
    '{"jsonrpc":"2.0","id":1,"method":"ping"',
    '\ufeff{"jsonrpc":"2.0","id":1,"method":"ping"}',
    '{"jsonrpc":"2.0","id":1,"method":"ping","id":2}',
    '{"jsonrpc":"2.0","id":1,"method":"ping","method":"initialize"}',
    'NaN',
    '\u0000',
  ];
  return { what: 'junk', body: Buffer.from(r.pick(junk)) };
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/jsonx',
  'text/plain',
  'multipart/form-data; boundary=x',
  '',
];
const ACCEPTS = [
  'application/json, text/event-stream',
  'application/json',
  'text/event-stream',
  '*/*',
  '',
];

/** Case `index` of the run seeded with `seed`. */
export function fuzzCase(seed: number, index: number): FuzzCase {
  const r = randomFor(seed, index);
  const { what, body } = bodyFor(r);
  const method = r.chance(0.9) ? 'POST' : r.pick(['GET', 'DELETE', 'PUT', 'OPTIONS', 'PATCH']);
  const headers: Record<string, string> = {
    'content-type': r.chance(0.9) ? 'application/json' : r.pick(CONTENT_TYPES),
    accept: r.chance(0.9) ? ACCEPTS[0]! : r.pick(ACCEPTS),
  };
  if (r.chance(0.3))
    headers['mcp-protocol-version'] = r.chance(0.8)
      ? r.pick(['2025-06-18', '2025-03-26', '2025-11-25'])
      : r.pick(['x', '', '2025-06-18, 2025-03-26']);
  if (r.chance(0.03)) headers.origin = r.pick(['null', 'https://evil.example', 'http://localhost']);
  const session = r.chance(0.75) ? 'pool' : r.pick(['bogus', 'other-key', 'none'] as const);
  const auth = r.chance(0.93) ? 'key' : r.pick(['none', 'wrong-secret', 'garbage'] as const);
  const fuzz: FuzzCase = { what, method, session, auth, headers };
  if (method !== 'GET' || r.chance(0.2)) fuzz.body = body;
  if (fuzz.body && method === 'POST' && r.chance(0.04))
    fuzz.partial = {
      bytes: r.int(fuzz.body.length + 1),
      then: r.pick(['destroy', 'end'] as const),
    };
  else if (method === 'POST' && session === 'pool' && r.chance(0.05)) {
    // Two calls in flight at once with one id: send_mail waits for the user, so they overlap.
    fuzz.twice = true;
    fuzz.what = 'send_mail twice with one id';
    fuzz.body = Buffer.from(
      `{"jsonrpc":"2.0","id":${r.chance(0.7) ? r.int(50) : `"id-${r.int(50)}"`},"method":"tools/call","params":{"name":"send_mail","arguments":${argumentsText(r, 'send_mail')}}}`,
    );
  }
  return fuzz;
}
