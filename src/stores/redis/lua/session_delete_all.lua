--[[
  Ends every session of a user except one. The user index decides: every member except
  ARGV[2] leaves it, including members added after the caller read the index. Records the caller
  declared are deleted here; records of members it could not declare are deleted by the caller
  afterwards (they are already dead: no longer in the index).

  Input:
    KEYS[1]    user index  ZSET sessionId -> expiry (ms)
    KEYS[2..n] session records the caller read from the index (same slot)

    ARGV[1]    now (ms); unused, kept for a uniform calling convention
    ARGV[2]    session id to keep ('' = none)
    ARGV[3..n] the session id of KEYS[i - 1] (ARGV[3] belongs to KEYS[2])

  Output:
    { {id, score, id, score, ...}  members removed from the user index (scores as strings),
      {id, record or nil, ...} }   declared records that were deleted here
]]
local userIdx = KEYS[1]
local keep = ARGV[2]

local removed = {}
local members = redis.call('ZRANGE', userIdx, 0, -1, 'WITHSCORES')
local ids = {}
for i = 1, #members, 2 do
  if members[i] ~= keep then
    removed[#removed + 1] = members[i]
    removed[#removed + 1] = members[i + 1]
    ids[#ids + 1] = members[i]
  end
end
for i = 1, #ids, 500 do
  redis.call('ZREM', userIdx, unpack(ids, i, math.min(i + 499, #ids)))
end

local records = {}
for i = 2, #KEYS do
  local sid = ARGV[i + 1]
  if sid ~= keep then
    local value = redis.call('GET', KEYS[i])
    if value then
      redis.call('DEL', KEYS[i])
    end
    records[#records + 1] = sid
    records[#records + 1] = value
  end
end
return { removed, records }
