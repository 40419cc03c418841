--[[
  Adds members to a scored index that stands alone on its slot (device sessions, blacklist index,
  revoked families), pruning it on write and keeping it bounded. Called with no members, it is the
  sweeper's bounded prune step.

  Pruning removes at most 500 members per call (ZCOUNT, then ZREMRANGEBYRANK over the lowest
  ranks: about 0.2 ms on a 1M-member index), so no call runs long however many members expired at
  once (one ZREMRANGEBYSCORE of 1M members blocked Redis for 300 ms); later calls and the sweeper
  take the rest.

  Input:
    KEYS[1] the index  ZSET member -> score (ms)

    ARGV[1] now (ms)
    ARGV[2] prune bound (ms): members with score <= it are removed first, at most 500 per call
    ARGV[3] maximum number of members (0 = unbounded); the lowest scores go first
    ARGV[4] index TTL slack (ms, >= 0): the TTL becomes (highest score - now + slack);
            -1 = leave the TTL alone
    ARGV[5], ARGV[6], ... score (ms), member pairs

  Output:
    the number of members removed by pruning and trimming (a prune that hit its limit of 500
    leaves more behind)
]]
local idx = KEYS[1]
local now = tonumber(ARGV[1])
local removed = math.min(redis.call('ZCOUNT', idx, '-inf', ARGV[2]), 500)
if removed > 0 then
  redis.call('ZREMRANGEBYRANK', idx, 0, removed - 1)
end
for i = 5, #ARGV, 2 do
  redis.call('ZADD', idx, ARGV[i], ARGV[i + 1])
end
local max = tonumber(ARGV[3])
if max > 0 then
  removed = removed + redis.call('ZREMRANGEBYRANK', idx, 0, -(max + 1))
end
local slack = tonumber(ARGV[4])
if slack >= 0 then
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  if top[2] then
    local ttl = math.ceil(tonumber(top[2]) - now + slack)
    if ttl > 0 then
      redis.call('PEXPIRE', idx, ttl)
    else
      redis.call('DEL', idx)
    end
  end
end
return removed
