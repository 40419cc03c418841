--[[
  Records a user's security event and indexes it: the record and the index change together. The
  index is pruned of events past the retention and kept to its bound on every write; an event
  trimmed by the bound loses its record in the same step (no record outlives its index entry).
  Every record the script may delete must be in KEYS: a first call whose KEYS lack a victim's
  record writes nothing and names the victims, and the caller calls again with their keys. The
  second call always writes: a victim whose record it still lacks (a concurrent write changed the
  oldest in between) stays in the index, over the bound until a later write trims it.

  Input:
    KEYS[1]    event record       STRING (JSON)
    KEYS[2]    user event index   ZSET eventId -> timestamp (ms)
    KEYS[3..n] records of the events in ARGV[10..n], in the same order (candidates for trimming)

    ARGV[1] record JSON
    ARGV[2] record TTL (ms, > 0): until timestamp + retention, when the index entry is pruned
    ARGV[3] event id
    ARGV[4] event timestamp (ms): the index score
    ARGV[5] prune bound (ms): now - retention; members with a timestamp <= it leave the index
            (their records have expired: each lives until its timestamp + retention)
    ARGV[6] bound on the index (> 0): the oldest beyond it leave the index with their records
    ARGV[7] index TTL slack (ms): the index outlives its longest-lived record by this much
    ARGV[8] '1' on the second call: write whatever victims lack their record, '0' otherwise
    ARGV[9] number of candidate event ids that follow
    ARGV[10..n] candidate event ids (the id of KEYS[i] is ARGV[i + 7])

  Output:
    { 1, number of members removed from the index } when written;
    { 0, event id, ... } when nothing was written because KEYS lack a victim's record: the
    oldest members (the victims and the next 16), to pass as candidates
]]
local record, idx = KEYS[1], KEYS[2]
local id, score, max = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[6])
local candidates = {}
for i = 1, tonumber(ARGV[9]) do
  candidates[ARGV[9 + i]] = 2 + i
end
local final = ARGV[8] == '1'

local removed = redis.call('ZREMRANGEBYSCORE', idx, '-inf', ARGV[5])
local excess = redis.call('ZCARD', idx) + 1 - max
-- The `excess` oldest of the index and the new event, as ZRANGE orders them (score, then id).
local victims = {}
local newIsVictim = false
if excess > 0 then
  local oldest = redis.call('ZRANGE', idx, 0, excess - 1, 'WITHSCORES')
  local merged = {}
  for i = 1, #oldest, 2 do
    merged[#merged + 1] = { oldest[i], tonumber(oldest[i + 1]) }
  end
  merged[#merged + 1] = { id, score }
  table.sort(merged, function(a, b)
    if a[2] ~= b[2] then
      return a[2] < b[2]
    end
    return a[1] < b[1]
  end)
  for i = 1, excess do
    if merged[i][1] == id then
      newIsVictim = true
    else
      victims[#victims + 1] = merged[i][1]
    end
  end
  for _, member in ipairs(victims) do
    if not candidates[member] and not final then
      -- Name the victims and the next oldest few, so that writes running concurrently, which
      -- trim some of them first, do not send the caller round again.
      local reply = { 0 }
      for _, v in ipairs(redis.call('ZRANGE', idx, 0, excess + 15)) do
        reply[#reply + 1] = v
      end
      return reply
    end
  end
end

if not newIsVictim then
  redis.call('SET', record, ARGV[1], 'PX', ARGV[2])
  redis.call('ZADD', idx, score, id)
end
for _, member in ipairs(victims) do
  local i = candidates[member]
  if i then
    redis.call('ZREM', idx, member)
    redis.call('DEL', KEYS[i])
    removed = removed + 1
  end
end
-- Every member's record dies within its own TTL: the index outlives the longest of them (plus the
-- slack) if nothing is added.
local ttl = tonumber(ARGV[2]) + tonumber(ARGV[7])
if redis.call('PTTL', idx) < ttl then
  redis.call('PEXPIRE', idx, ttl)
end
return { 1, removed }
