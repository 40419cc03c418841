--[[
  Creates or replaces a trusted-device record and indexes it, together; prunes the user's
  trusted-device index on write.

  Input:
    KEYS[1] trusted device record  STRING (JSON)
    KEYS[2] user trusted index     ZSET deviceId -> expiresAt (ms)

    ARGV[1] now (ms)
    ARGV[2] device id
    ARGV[3] record JSON
    ARGV[4] record TTL (ms, > 0)
    ARGV[5] expiresAt (ms): the index score
    ARGV[6] index TTL slack (ms): the index outlives its latest member by this much

  Output:
    the number of expired members pruned from the index
]]
local record, idx = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local removed = redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)
redis.call('SET', record, ARGV[3], 'PX', ARGV[4])
redis.call('ZADD', idx, ARGV[5], ARGV[2])
local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', idx, math.ceil(tonumber(top[2]) - now + tonumber(ARGV[6])))
return removed
