--[[
  Deletes the refresh families of a user's ended sessions, so that a user holds at most the
  families of their live sessions (bounded by the session cap) however often they log in and out.
  The user's family index (familyId -> sessionId) says which session each family refreshes; a
  session is live while the user index holds it with a future score. A family whose session ended
  is refused by every check already; deleting it keeps that (an unknown family is refused too).

  Two calls, because every key a script touches must be declared: the first declares only the two
  indexes and gets the ended families' ids back; the second declares those families and deletes
  each whose session is (still) not live, with its index entry.

  Input:
    KEYS[1]    user families   HASH familyId -> sessionId
    KEYS[2]    user index      ZSET sessionId -> expiry (ms)
    KEYS[3..n] on the second call: the families to delete (same slot)

    ARGV[1]    now (ms)
    ARGV[2..n] on the second call: the family id of KEYS[i + 1] (ARGV[2] belongs to KEYS[3])

  Output:
    first call (two keys): {familyId, ...} the families whose session is not live
    second call: the number of families deleted
]]
local userFamilies, userIdx = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])

local function ended(sid)
  if not sid then return true end
  local score = redis.call('ZSCORE', userIdx, sid)
  return not score or tonumber(score) <= now
end

if #KEYS == 2 then
  local found = {}
  local entries = redis.call('HGETALL', userFamilies)
  for i = 1, #entries, 2 do
    if ended(entries[i + 1]) then
      found[#found + 1] = entries[i]
    end
  end
  return found
end

local dropped = 0
for i = 3, #KEYS do
  local fid = ARGV[i - 1]
  if ended(redis.call('HGET', userFamilies, fid)) then
    dropped = dropped + redis.call('DEL', KEYS[i])
    redis.call('HDEL', userFamilies, fid)
  end
end
return dropped
