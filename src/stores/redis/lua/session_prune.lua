--[[
  Cleanup of one batch of a user's session index: removes members that expired (score <= now),
  whose record no longer exists, or whose record has expired by its own fields.

  Input:
    KEYS[1]    user index  ZSET sessionId -> expiry (ms)
    KEYS[2..n] the records of the members to look at (same slot)

    ARGV[1]    now (ms)
    ARGV[2..n] the session id of KEYS[i] (ARGV[i] belongs to KEYS[i])

  Output:
    the number of members removed from the user index
]]
local userIdx = KEYS[1]
local now = tonumber(ARGV[1])

-- #include record_end (recordEnd(v): the record's own end in ms, or nil)

local removed = 0
for i = 2, #KEYS do
  local sid = ARGV[i]
  local score = redis.call('ZSCORE', userIdx, sid)
  local dead = score and tonumber(score) <= now
  if score and not dead then
    local value = redis.call('GET', KEYS[i])
    local stop = value and recordEnd(value)
    dead = not stop or stop <= now
  end
  if dead then
    redis.call('ZREM', userIdx, sid)
    removed = removed + 1
  end
end
return removed
