--[[
  Ends every session of a user except one. The user index decides: every member except
  ARGV[2] leaves it, including members added after the caller read the index. Records the caller
  declared are deleted here; records of members it could not declare are deleted by the caller
  afterwards (they are already dead: no longer in the index).

  Input:
    KEYS[1]    user index          ZSET sessionId -> expiry (ms)
    KEYS[2]    user created-order  ZSET sessionId -> createdAt (ms)
    KEYS[3..n] session records the caller read from the index (same slot)

    ARGV[1]    now (ms); unused, kept for a uniform calling convention
    ARGV[2]    session id to keep ('' = none)
    ARGV[3..n] the session id of KEYS[i] (ARGV[i] belongs to KEYS[i])

  Output:
    { {id, score, id, score, ...}  members removed from the user index (scores as strings),
      {id, json or nil, ...} }     declared records that were deleted here
]]
local userIdx, createdIdx = KEYS[1], KEYS[2]
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
local created = redis.call('ZRANGE', createdIdx, 0, -1)
for _, member in ipairs(created) do
  if member ~= keep then
    redis.call('ZREM', createdIdx, member)
  end
end

local records = {}
for i = 3, #KEYS do
  if ARGV[i] ~= keep then
    local json = redis.call('GET', KEYS[i])
    if json then
      redis.call('DEL', KEYS[i])
    end
    records[#records + 1] = ARGV[i]
    records[#records + 1] = json
  end
end
return { removed, records }
