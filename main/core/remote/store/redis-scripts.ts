import { createHash } from 'node:crypto';
import type { TokenTake } from './shared-store.ts';

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
 * SharedStore.takeToken. KEYS[1] the bucket (a hash {tokens, ts}); ARGV rate per second, burst.
 * Returns {1, whole tokens left} or {0, milliseconds until the next token}.
 */
export const TAKE_TOKEN = luaScript(`${NOW}
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local function finite(x, fallback)
  if x == nil or x ~= x or x == math.huge or x == -math.huge then return fallback end
  return x
end
-- HMGET first: a key of another type fails here, before anything is written.
local held = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local before, since = burst, now
if redis.call('EXISTS', KEYS[1]) == 1 then
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
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', left), 'ts', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], string.format('%d', fullIn))
if allowed then return {1, math.floor(left)} end
return {0, math.max(1, math.ceil((1 - left) * 1000 / rate))}
`);

/**
 * SharedStore.acquireSlot. KEYS[1] the slots (a sorted set scored by deadline); ARGV member,
 * cap, ttl in ms. Returns 1 when the member holds a slot, 0 when refused.
 */
export const ACQUIRE_SLOT = luaScript(`${NOW}
local cap = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
-- The slots of holders that died free themselves at their deadline.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now))
local acquired = redis.call('ZSCORE', KEYS[1], ARGV[1]) ~= false
  or redis.call('ZCARD', KEYS[1]) < cap
if acquired then
  redis.call('ZADD', KEYS[1], string.format('%d', now + ttl), ARGV[1])
end
-- The key lives as long as its last deadline.
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
if acquired then return 1 end
return 0
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
