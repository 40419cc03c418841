--[[
  Cleanup of one batch of a user's session index: removes members that expired (score <= now),
  whose record no longer exists, or whose record has expired by its own fields, from both user
  indexes.

  Input:
    KEYS[1]    user index          ZSET sessionId -> expiry (ms)
    KEYS[2]    user created-order  ZSET sessionId -> createdAt (ms)
    KEYS[3..n] the records of the members to look at (same slot)

    ARGV[1]    now (ms)
    ARGV[2..n-1] the session id of KEYS[i + 1] (ARGV[i] belongs to KEYS[i + 1])

  Output:
    the number of members removed from the user index
]]
local userIdx, createdIdx = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local removed = 0
for i = 3, #KEYS do
  local sid = ARGV[i - 1]
  local score = redis.call('ZSCORE', userIdx, sid)
  local dead = score and tonumber(score) <= now
  if score and not dead then
    local json = redis.call('GET', KEYS[i])
    local ok, s = false, nil
    if json then
      ok, s = pcall(cjson.decode, json)
    end
    dead = not ok or type(s) ~= 'table' or not (tonumber(s.expiresAt) and tonumber(s.expiresAt) > now)
      or not (tonumber(s.absoluteExpiresAt) and tonumber(s.absoluteExpiresAt) > now)
  end
  if dead then
    redis.call('ZREM', userIdx, sid)
    redis.call('ZREM', createdIdx, sid)
    removed = removed + 1
  end
end
return removed
