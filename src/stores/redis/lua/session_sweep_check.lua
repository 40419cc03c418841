--[[
  The sweeper's question about one member of a device index: is its session live? As
  `session_get.lua`, and when it is not, the session id is noted in the user's swept set before
  the sweeper removes the member from the device index (another slot).

  Why the note: a login adds the device entry first (its step 1) and the session after (step 2).
  A sweep that reads the member between the two steps finds it dead and removes it, and the session
  then goes live without its device entry. `session_create.lua` looks its id up in the swept set
  and, when it is there, tells the caller to add the device entry again (the caller's step 3). A
  login that no sweep touched adds the entry once.

  Input:
    KEYS[1] session record  STRING (compact record, see records.ts)
    KEYS[2] user index      ZSET sessionId -> expiry (ms)
    KEYS[3] swept set       ZSET sessionId -> until (ms): ids a sweep found not live

    ARGV[1] now (ms)
    ARGV[2] session id
    ARGV[3] how long a note is kept (ms, > 0): longer than a login's steps 1 and 2 can be apart

  Output:
    the record, or nil when the session is not in the index, its score is <= now, or the record
    is gone (then noted). The caller still checks the record's own expiry.
]]
local now = tonumber(ARGV[1])
local score = redis.call('ZSCORE', KEYS[2], ARGV[2])
local record = false
if score and tonumber(score) > now then
  record = redis.call('GET', KEYS[1])
end
if record then
  return record
end
local swept = KEYS[3]
redis.call('ZREMRANGEBYSCORE', swept, '-inf', now)
redis.call('ZADD', swept, now + tonumber(ARGV[3]), ARGV[2])
if redis.call('PTTL', swept) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', swept, ARGV[3])
end
return false
