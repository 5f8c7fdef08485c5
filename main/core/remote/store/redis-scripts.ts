import { createHash } from 'node:crypto';
import type { Admission, TokenTake } from './shared-store.ts';

// The compound operations of the Redis store, each one Lua script so that it is atomic across
// instances. They read the time from Redis (TIME), never from the instance, so instances whose
// clocks disagree still share one bucket and one set of slots fairly. Times are whole
// milliseconds, as in the memory store. Numbers go back to Redis as strings formatted here: Lua
// would print a float with 14 digits, which loses a millisecond timestamp.

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * The token bucket step: takes one token from the bucket at `key` (a hash {tokens, ts}) at
 * `rate` per second, holding `burst` at most. Returns true and the whole tokens left, or false
 * and the milliseconds until the next token.
 */
const TAKE_FN = `
local function finite(x, fallback)
  if x == nil or x ~= x or x == math.huge or x == -math.huge then return fallback end
  return x
end
local function take(key, rate, burst)
  -- HMGET first: a key of another type fails here, before anything is written.
  local held = redis.call('HMGET', key, 'tokens', 'ts')
  local before, since = burst, now
  if redis.call('EXISTS', key) == 1 then
    -- A bucket that cannot be read counts as empty: it refuses until it refills.
    before = finite(tonumber(held[1]), 0)
    since = finite(tonumber(held[2]), now)
  end
  -- A clock that stepped back refills nothing rather than draining the bucket.
  local elapsed = math.max(0, now - since)
  local tokens = math.min(burst, before + elapsed * rate / 1000)
  local allowed = tokens >= 1
  local left = tokens
  if allowed then left = tokens - 1 end
  local fullIn = math.max(1, math.ceil((burst - left) * 1000 / rate))
  redis.call('DEL', key)
  redis.call('HSET', key, 'tokens', string.format('%.17g', left), 'ts', string.format('%d', now))
  redis.call('PEXPIRE', key, string.format('%d', fullIn))
  if allowed then return true, math.floor(left) end
  return false, math.max(1, math.ceil((1 - left) * 1000 / rate))
end
`;

/**
 * The in-flight slot step: `member` takes or keeps a slot of `key` (a sorted set scored by
 * deadline) for `ttl` ms, refused when `cap` live members hold it. Returns whether it holds one.
 */
const SLOT_FN = `
local function slot(key, member, cap, ttl)
  -- The slots of holders that died free themselves at their deadline.
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', now))
  local acquired = redis.call('ZSCORE', key, member) ~= false
    or redis.call('ZCARD', key) < cap
  if acquired then
    redis.call('ZADD', key, string.format('%d', now + ttl), member)
  end
  -- The key lives as long as its last deadline.
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', key, last[2]) end
  return acquired
end
`;

/**
 * SharedStore.takeToken. KEYS[1] the bucket; ARGV rate per second, burst.
 * Returns {1, whole tokens left} or {0, milliseconds until the next token}.
 */
export const TAKE_TOKEN = luaScript(`${NOW}${TAKE_FN}
local ok, amount = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
if ok then return {1, amount} end
return {0, amount}
`);

/**
 * SharedStore.acquireSlot. KEYS[1] the slots; ARGV member, cap, ttl in ms. Returns 1 when the
 * member holds a slot, 0 when refused.
 */
export const ACQUIRE_SLOT = luaScript(`${NOW}${SLOT_FN}
if slot(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])) then return 1 end
return 0
`);

/**
 * SharedStore.admit. KEYS the checks' keys, the buckets in order, then the slot's; ARGV the
 * number of checks, each check's kind (key, no-field, member) and argument, the number of
 * buckets, each bucket's rate and burst, then the member, cap and ttl of the slot. Returns {1}
 * when let in, {2, i} when the i-th check (from 1) failed, {0, i, ms} when the i-th bucket
 * refused, {0, 0} when the slot did.
 */
export const ADMIT = luaScript(`${NOW}${TAKE_FN}${SLOT_FN}
local c = tonumber(ARGV[1])
-- Every check before anything is written: a failed one counts nothing anywhere. HEXISTS and
-- ZSCORE fail on a key of another type, as the memory store does.
for i = 1, c do
  local kind, arg, key = ARGV[2 * i], ARGV[2 * i + 1], KEYS[i]
  local holds
  if kind == 'key' then holds = redis.call('EXISTS', key) == 1
  elseif kind == 'no-field' then holds = redis.call('HEXISTS', key, arg) == 0
  elseif kind == 'member' then holds = redis.call('ZSCORE', key, arg) ~= false
  else return redis.error_reply('ERR unknown admission check') end
  if not holds then return {2, i} end
end
local b = 2 * c + 2
local n = tonumber(ARGV[b])
for i = 1, n do
  local ok, amount = take(KEYS[c + i], tonumber(ARGV[b + 2 * i - 1]), tonumber(ARGV[b + 2 * i]))
  if not ok then return {0, i, amount} end
end
local at = b + 2 * n + 1
if slot(KEYS[c + n + 1], ARGV[at], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])) then
  return {1}
end
return {0, 0}
`);

/**
 * A hash, set or sorted-set write that also sets the key's expiry (hSet, sAdd, zAdd with ttlMs).
 * KEYS[1] the key; ARGV the command (HSET, SADD or ZADD), the ttl in ms, then its arguments.
 * Unlike MULTI, which runs PEXPIRE even when the write failed, a key of another type is left
 * exactly as it was. Returns what the write returns (how many fields or members were new).
 */
export const WRITE_WITH_TTL = luaScript(`
local command = ARGV[1]
if command ~= 'HSET' and command ~= 'SADD' and command ~= 'ZADD' then
  return redis.error_reply('ERR not a collection write')
end
local written = 0
-- In slices: Lua unpacks a few thousand values at most. 1000 keeps field/value and
-- score/member pairs together.
for i = 3, #ARGV, 1000 do
  written = written + redis.call(command, KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return written
`);

/**
 * SharedStore.delIfValue. KEYS[1] the key; ARGV[1] the value it must hold. A key of another type
 * is an error, as GET would give. Returns 1 when it was deleted, 0 otherwise.
 */
export const DEL_IF_VALUE = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/** Every script above, for loading them all when a store opens. */
export const LUA_SCRIPTS: readonly LuaScript[] = [
  TAKE_TOKEN,
  ACQUIRE_SLOT,
  ADMIT,
  WRITE_WITH_TTL,
  DEL_IF_VALUE,
];

/** A Lua script and the SHA-1 that EVALSHA names it by. */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

function luaScript(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** The reply of TAKE_TOKEN as a TokenTake. */
export function tokenTakeFrom(reply: unknown): TokenTake {
  const [allowed, amount] = Array.isArray(reply) ? reply.map(Number) : [];
  if (allowed === undefined || amount === undefined || !Number.isFinite(amount))
    throw new TypeError('The token bucket script answered in an unknown shape.');
  return allowed === 1
    ? { allowed: true, remaining: amount }
    : { allowed: false, retryAfterMs: amount };
}

/** The reply of ADMIT as an Admission. */
export function admissionFrom(reply: unknown): Admission {
  const [admitted, index, amount] = Array.isArray(reply) ? reply.map(Number) : [];
  if (admitted === 1) return { admitted: true };
  if (admitted === 2 && index !== undefined && index > 0)
    return { admitted: false, refusedBy: 'check', index: index - 1 };
  if (admitted === 0 && index === 0) return { admitted: false, refusedBy: 'slot' };
  if (admitted === 0 && index !== undefined && index > 0 && amount !== undefined)
    return { admitted: false, refusedBy: 'bucket', index: index - 1, retryAfterMs: amount };
  throw new TypeError('The admission script answered in an unknown shape.');
}
