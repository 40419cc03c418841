--[[
  Ends a session: its record and its user-index memberships go together.

  Input:
    KEYS[1] session record      STRING (JSON)
    KEYS[2] user index          ZSET sessionId -> expiry (ms)
    KEYS[3] user created-order  ZSET sessionId -> createdAt (ms)

    ARGV[1] session id

  Output:
    {recordJson or nil, indexScore or nil} as they were before the delete. The caller removes the
    session from its device index afterwards (another slot; the device index is filtered on read).
]]
local sid = ARGV[1]
local json = redis.call('GET', KEYS[1])
local score = redis.call('ZSCORE', KEYS[2], sid)
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], sid)
redis.call('ZREM', KEYS[3], sid)
return { json, score }
