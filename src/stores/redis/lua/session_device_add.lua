--[[
  A login's first step on the device's slot: adds the new session to the device index (before the
  session exists, so the index lists it from the moment it is live; until then it is a dead member,
  filtered on read) and answers the index's live members, so the create can tell whether the
  device was already on a live session of the user. `index_add.lua` with the read folded in: one
  command instead of an `index_add` and a `ZRANGE`.

  Pruning removes at most 500 members scored at or before now per call, as `index_add.lua` does.

  Input:
    KEYS[1] device index  ZSET sessionId -> expiry (ms)

    ARGV[1] now (ms)
    ARGV[2] the new session's score (ms): its expiresAt
    ARGV[3] the new session's id
    ARGV[4] index TTL slack (ms, >= 0): the TTL becomes (highest score - now + slack)
    ARGV[5] live members to answer at most (0: none)

  Output:
    the index's members scored after now (at most ARGV[5], soonest expiry first; the new session
    among them)
]]
local idx = KEYS[1]
local now = tonumber(ARGV[1])
local stale = math.min(redis.call('ZCOUNT', idx, '-inf', now), 500)
if stale > 0 then
  redis.call('ZREMRANGEBYRANK', idx, 0, stale - 1)
end
redis.call('ZADD', idx, ARGV[2], ARGV[3])
local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
local ttl = math.ceil(tonumber(top[2]) - now + tonumber(ARGV[4]))
if ttl > 0 then
  redis.call('PEXPIRE', idx, ttl)
end
local limit = tonumber(ARGV[5])
if limit <= 0 then
  return {}
end
return redis.call('ZRANGE', idx, '(' .. ARGV[1], '+inf', 'BYSCORE', 'LIMIT', 0, limit)
