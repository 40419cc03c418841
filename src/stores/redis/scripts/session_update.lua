--[[
  Replaces a live session's record. Never resurrects: writes nothing unless the session is in its
  user's index with a score > now and its record exists and has not expired by its own fields.

  Input:
    KEYS[1] session record      STRING (JSON)
    KEYS[2] user index          ZSET sessionId -> expiry (ms)
    KEYS[3] user created-order  ZSET sessionId -> createdAt (ms); only its TTL follows KEYS[2]

    ARGV[1] now (ms)
    ARGV[2] session id
    ARGV[3] record JSON
    ARGV[4] '1' = extend: new TTL and index score; '0' = keep the record's TTL and the score
    ARGV[5] new expiry score (ms), used when extending
    ARGV[6] new record TTL (ms, > 0), used when extending
    ARGV[7] index TTL slack (ms): the indexes outlive their latest member by this much

  Output:
    {previous record JSON, index score (ms) after the write} when written (the caller moves the
    device index entry), or nil when the session was not live (nothing written).
]]
local record, userIdx, createdIdx = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local sid = ARGV[2]

local score = redis.call('ZSCORE', userIdx, sid)
if not score or tonumber(score) <= now then
  return false
end
local previous = redis.call('GET', record)
if not previous then
  return false
end
-- The record's own expiry (a KEEPTTL update may have moved it before the score).
local ok, s = pcall(cjson.decode, previous)
if not ok or type(s) ~= 'table' or not (tonumber(s.expiresAt) and tonumber(s.expiresAt) > now)
  or not (tonumber(s.absoluteExpiresAt) and tonumber(s.absoluteExpiresAt) > now) then
  return false
end

if ARGV[4] == '1' then
  redis.call('SET', record, ARGV[3], 'PX', ARGV[6])
  redis.call('ZADD', userIdx, 'XX', ARGV[5], sid)
  score = ARGV[5]
  local top = redis.call('ZRANGE', userIdx, -1, -1, 'WITHSCORES')
  local ttl = math.ceil(tonumber(top[2]) - now + tonumber(ARGV[7]))
  redis.call('PEXPIRE', userIdx, ttl)
  redis.call('PEXPIRE', createdIdx, ttl)
else
  redis.call('SET', record, ARGV[3], 'KEEPTTL')
end
return { previous, score }
