--[[
  Replaces a live session's record. Never resurrects: writes nothing unless the session is in its
  user's index with a score > now and its record exists and has not expired by its own fields.

  Input:
    KEYS[1] session record  STRING (compact record, see records.ts)
    KEYS[2] user index      ZSET sessionId -> expiry (ms)

    ARGV[1] now (ms)
    ARGV[2] session id
    ARGV[3] the new record
    ARGV[4] '1' = extend: new TTL and index score; '0' = keep the record's TTL, and the score
            unless the new record ends before it (then the score is lowered to that end)
    ARGV[5] new expiry score (ms), used when extending
    ARGV[6] new record TTL (ms, > 0), used when extending
    ARGV[7] index TTL slack (ms): the index outlives its latest member by this much
    ARGV[8] optional: write only if the stored record's lastActivity (ms) is at or before this;
            otherwise write nothing (an activity write another instance made within the interval)

  Output:
    {previous record, index score (ms), 1} when written (the caller moves the device index
    entry); {previous record, index score (ms), 0} when ARGV[8] held the write back; nil when the
    session was not live (nothing written).
]]
local record, userIdx = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local sid = ARGV[2]

-- #include record_end (recordEnd(v), recordLastActivity(v): ms, or nil)

local score = redis.call('ZSCORE', userIdx, sid)
if not score or tonumber(score) <= now then
  return false
end
local previous = redis.call('GET', record)
if not previous then
  return false
end
-- The record's own expiry (a KEEPTTL update may have moved it before the score).
local stop = recordEnd(previous)
if not stop or stop <= now then
  return false
end
if ARGV[8] and ARGV[8] ~= '' then
  local last = recordLastActivity(previous)
  if last and last > tonumber(ARGV[8]) then
    return { previous, score, 0 }
  end
end

if ARGV[4] == '1' then
  redis.call('SET', record, ARGV[3], 'PX', ARGV[6])
  redis.call('ZADD', userIdx, 'XX', ARGV[5], sid)
  score = ARGV[5]
  local top = redis.call('ZRANGE', userIdx, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', userIdx, math.ceil(tonumber(top[2]) - now + tonumber(ARGV[7])))
else
  redis.call('SET', record, ARGV[3], 'KEEPTTL')
  -- The index is what the revocation check reads: a record that now ends before its score
  -- (an idle expiry moved back) lowers the score to that end, never raises it.
  local stopNew = recordEnd(ARGV[3])
  if stopNew and stopNew < tonumber(score) then
    redis.call('ZADD', userIdx, 'XX', stopNew, sid)
    score = stopNew
  end
end
return { previous, score, 1 }
