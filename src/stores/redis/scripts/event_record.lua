--[[
  Records a user's security event and indexes it: the record and the index change together. The
  index is pruned of events past the retention and trimmed to its bound on every write.

  Input:
    KEYS[1] event record       STRING (JSON)
    KEYS[2] user event index   ZSET eventId -> timestamp (ms)

    ARGV[1] record JSON
    ARGV[2] record TTL (ms, > 0): the retention
    ARGV[3] event id
    ARGV[4] event timestamp (ms): the index score
    ARGV[5] prune bound (ms): now - retention; members with a timestamp <= it leave the index
    ARGV[6] bound on the index (> 0): the oldest beyond it leave the index (records stay until TTL)
    ARGV[7] index TTL slack (ms): the index outlives the retention by this much

  Output:
    the number of members removed from the index
]]
local record, idx = KEYS[1], KEYS[2]
redis.call('SET', record, ARGV[1], 'PX', ARGV[2])
local removed = redis.call('ZREMRANGEBYSCORE', idx, '-inf', ARGV[5])
redis.call('ZADD', idx, ARGV[4], ARGV[3])
removed = removed + redis.call('ZREMRANGEBYRANK', idx, 0, -(tonumber(ARGV[6]) + 1))
-- Every member's record dies within the retention from now: so does the index (plus the slack)
-- if nothing is added.
redis.call('PEXPIRE', idx, tonumber(ARGV[2]) + tonumber(ARGV[7]))
return removed
