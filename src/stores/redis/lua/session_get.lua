--[[
  Reads a session record if its user's index says the session is live. Read-only.

  Input:
    KEYS[1] session record  STRING (compact record, see records.ts)
    KEYS[2] user index      ZSET sessionId -> expiry (ms)

    ARGV[1] now (ms)
    ARGV[2] session id

  Output:
    the record, or nil when the session is not in the index, its score is <= now, or the
    record is gone. The caller still checks the record's own expiry.
]]
local score = redis.call('ZSCORE', KEYS[2], ARGV[2])
if not score or tonumber(score) <= tonumber(ARGV[1]) then
  return false
end
return redis.call('GET', KEYS[1])
