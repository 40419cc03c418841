--[[
  Creates a session: prunes the user's indexes, enforces the cap, writes the record and indexes it,
  all in one step on the user's slot.

  Input:
    KEYS[1] user index          ZSET sessionId -> expiry (ms); the authority on live sessions
    KEYS[2] user created-order  ZSET sessionId -> createdAt (ms); same members as KEYS[1]
    KEYS[3] session record      STRING (JSON)

    ARGV[1] now (ms, from the caller's clock)
    ARGV[2] session id
    ARGV[3] expiresAt (ms, > now; never past absoluteExpiresAt): the index score
    ARGV[4] createdAt (ms)
    ARGV[5] record JSON
    ARGV[6] record TTL (ms, > 0)
    ARGV[7] cap on live sessions (0 = no cap)
    ARGV[8] policy at the cap: 'deny' | 'evict-oldest'
    ARGV[9] index TTL slack (ms): the indexes outlive their latest member by this much

  Output:
    {'ok', evictedId, ...}  evicted ids oldest first; they are out of both indexes (ended) but
                            their records still exist: the caller deletes them (same slot).
    {'limit', liveCount}    'deny' policy at the cap; nothing was written.
]]
local userIdx, createdIdx, record = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local sid = ARGV[2]
local cap = tonumber(ARGV[7])

-- Prune on write: expired members leave both indexes (chunks keep unpack() under Lua's stack limit).
local expired = redis.call('ZRANGE', userIdx, '-inf', now, 'BYSCORE')
for i = 1, #expired, 500 do
  local chunk = { unpack(expired, i, math.min(i + 499, #expired)) }
  redis.call('ZREM', userIdx, unpack(chunk))
  redis.call('ZREM', createdIdx, unpack(chunk))
end

local result = { 'ok' }
if cap > 0 and not redis.call('ZSCORE', userIdx, sid) then
  local live = redis.call('ZCARD', userIdx)
  if live >= cap then
    if ARGV[8] == 'deny' then
      return { 'limit', live }
    end
    local need = live - cap + 1
    -- Oldest first by createdAt. A created-order member missing from the user index is a stray: drop it.
    local ordered = redis.call('ZRANGE', createdIdx, 0, -1)
    for _, member in ipairs(ordered) do
      if need == 0 then break end
      if redis.call('ZREM', userIdx, member) == 1 then
        need = need - 1
        result[#result + 1] = member
      end
      redis.call('ZREM', createdIdx, member)
    end
    -- Members without a creation time (none in normal operation): soonest expiry first.
    if need > 0 then
      local rest = redis.call('ZRANGE', userIdx, 0, need - 1)
      for _, member in ipairs(rest) do
        redis.call('ZREM', userIdx, member)
        result[#result + 1] = member
      end
    end
  end
end

redis.call('SET', record, ARGV[5], 'PX', ARGV[6])
redis.call('ZADD', userIdx, ARGV[3], sid)
redis.call('ZADD', createdIdx, ARGV[4], sid)

-- The indexes live as long as their latest member plus the slack (idle users' indexes vanish).
local top = redis.call('ZRANGE', userIdx, -1, -1, 'WITHSCORES')
local ttl = math.ceil(tonumber(top[2]) - now + tonumber(ARGV[9]))
redis.call('PEXPIRE', userIdx, ttl)
redis.call('PEXPIRE', createdIdx, ttl)
return result
