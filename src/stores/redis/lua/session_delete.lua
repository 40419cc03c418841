--[[
  Ends a session: its record and its user-index membership go together.

  Input:
    KEYS[1] session record  STRING (compact record, see records.ts)
    KEYS[2] user index      ZSET sessionId -> expiry (ms)

    ARGV[1] session id

  Output:
    {record or nil, indexScore or nil} as they were before the delete. The caller removes the
    session from its device index afterwards (another slot; the device index is filtered on read).
]]
local record, userIdx = KEYS[1], KEYS[2]
local sid = ARGV[1]
local value = redis.call('GET', record)
local score = redis.call('ZSCORE', userIdx, sid)
redis.call('DEL', record)
redis.call('ZREM', userIdx, sid)
return { value, score }
