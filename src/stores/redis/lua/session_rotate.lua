--[[
  Moves a live session to a new id: the old id is dead the moment the new one is live.
  Compare-and-set: the caller read the record (ARGV[4]) and built the new one (ARGV[5]); if the
  record changed in between, nothing is written and the caller retries.

  Input:
    KEYS[1] old session record  STRING (compact record, see records.ts)
    KEYS[2] new session record  STRING
    KEYS[3] user index          ZSET sessionId -> expiry (ms)

    ARGV[1] now (ms)
    ARGV[2] old session id
    ARGV[3] new session id
    ARGV[4] the old record as the caller read it
    ARGV[5] the new record (same session, new id)

  Output:
    1 moved; 0 the old session is not live; -1 the record changed since it was read (retry);
    -2 the new id is already in use.
]]
local oldRecord, newRecord, userIdx = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local oldId, newId = ARGV[2], ARGV[3]

local score = redis.call('ZSCORE', userIdx, oldId)
if not score or tonumber(score) <= now then
  return 0
end
local current = redis.call('GET', oldRecord)
if not current then
  return 0
end
if current ~= ARGV[4] then
  return -1
end
if redis.call('EXISTS', newRecord) == 1 or redis.call('ZSCORE', userIdx, newId) then
  return -2
end

local ttl = redis.call('PTTL', oldRecord)
if ttl <= 0 then
  ttl = math.ceil(tonumber(score) - now)
end
redis.call('SET', newRecord, ARGV[5], 'PX', ttl)
redis.call('DEL', oldRecord)
redis.call('ZREM', userIdx, oldId)
redis.call('ZADD', userIdx, score, newId)
return 1
