--[[
  Creates a refresh-token family, unless one with this id exists (re-creating would un-revoke a
  revoked family or restart a rotated one). The family records the user's generation in force now
  (`ugen`, read from the user's revoke-all record in this same step), so a revoke-all that returned
  before this call revokes nothing of it, and one that returns after it revokes all of it.

  Bounded per user: the family is entered in the user's family index (familyId -> sessionId), and
  its TTL is cut to its session's absolute end when the session record is there (a family never
  outlives the session it refreshes). The index members whose session is no longer live (not in the
  user index with a future score) are returned: the caller deletes them with family_drop.lua (their
  keys were not declared here). A family without a live session is refused by every check anyway
  (family_rotate.lua: session_ended; the revocation check: an unknown family is revoked).

  Input:
    KEYS[1] family          HASH
    KEYS[2] user watermark  STRING JSON {beforeMs, expiresAt, gen} (same slot: the user's tag)
    KEYS[3] user families   HASH familyId -> sessionId
    KEYS[4] user index      ZSET sessionId -> expiry (ms)
    KEYS[5] session record  STRING (compact record, see records.ts) of the family's session

    ARGV[1] now (ms)
    ARGV[2] TTL (ms, > 0), before the cut to the session's absolute end
    ARGV[3] family id (the member in KEYS[3])
    ARGV[4] session id (of KEYS[5])
    ARGV[5..n] field, value pairs of the new family (userId, sessionId, cur, gen, createdAt,
               revoked, and claims when given); `ugen` and `expiresAt` are added here

  Output:
    {ugen, expiresAt, endedFamilyId, ...}: the family's `ugen` (>= 0) and expiry (ms), as strings,
    then the ids of the user's families whose session has ended (to delete); {'-1'} when a family
    with this id exists and has not expired (nothing written)
]]
local family, watermark, userFamilies, userIdx, record = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])

-- #include record_end (recordEnd(v), recordAbsoluteEnd(v): ms, or nil)

local expiresAt = redis.call('HGET', family, 'expiresAt')
if expiresAt and tonumber(expiresAt) > now then
  return { '-1' }
end
local ugen = 0
local mark = redis.call('GET', watermark)
if mark then
  local ok, w = pcall(cjson.decode, mark)
  if ok and type(w) == 'table' and tonumber(w.gen) then
    ugen = tonumber(w.gen)
  end
end
local gen = string.format('%.0f', ugen)

-- Never past the session's absolute end (no activity moves it).
local px = tonumber(ARGV[2])
local session = redis.call('GET', record)
local stop = session and recordAbsoluteEnd(session)
if stop then
  px = math.max(1, math.min(px, stop - now))
end
local expiry = string.format('%.0f', now + px)

-- The families of sessions that are no longer live: the caller deletes them.
local reply = { gen, expiry }
local entries = redis.call('HGETALL', userFamilies)
for i = 1, #entries, 2 do
  if entries[i] ~= ARGV[3] then
    local score = redis.call('ZSCORE', userIdx, entries[i + 1])
    if not score or tonumber(score) <= now then
      reply[#reply + 1] = entries[i]
    end
  end
end

redis.call('DEL', family)
redis.call('HSET', family, 'ugen', gen, 'expiresAt', expiry, unpack(ARGV, 5))
redis.call('PEXPIRE', family, px)
redis.call('HSET', userFamilies, ARGV[3], ARGV[4])
if redis.call('PTTL', userFamilies) < px then
  redis.call('PEXPIRE', userFamilies, px)
end
return reply
