--[[
  Creates or replaces a trusted-device record and indexes it, together; prunes the user's
  trusted-device index on write, and keeps it to its bound: beyond `max` devices, the trusts that
  end first (lowest expiresAt; never the device being trusted) are evicted, record and index entry
  together. Every record the script may delete must be in KEYS: a call whose KEYS lack one of the
  victims writes nothing and names the victims, and the caller calls again with their keys.

  Input:
    KEYS[1]    trusted device record  STRING (JSON)
    KEYS[2]    user trusted index     ZSET deviceId -> expiresAt (ms)
    KEYS[3..n] records of the devices in ARGV[9..n], in the same order (candidates for eviction)

    ARGV[1] now (ms)
    ARGV[2] device id
    ARGV[3] record JSON
    ARGV[4] record TTL (ms, > 0)
    ARGV[5] expiresAt (ms): the index score
    ARGV[6] index TTL slack (ms): the index outlives its latest member by this much
    ARGV[7] bound on the user's devices (>= 1)
    ARGV[8] number of candidate device ids that follow
    ARGV[9..n] candidate device ids (the id of KEYS[i] is ARGV[i + 6])

  Output:
    { 1, evicted device id, ... } when written;
    { 0, device id, ... } when nothing was written because KEYS lack a victim's record: every
    other member of the index, to pass as candidates
]]
local record, idx = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local id = ARGV[2]
local max = tonumber(ARGV[7])
local candidates = {}
for i = 1, tonumber(ARGV[8]) do
  candidates[ARGV[8 + i]] = 2 + i
end

redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)
local card = redis.call('ZCARD', idx)
if not redis.call('ZSCORE', idx, id) then
  card = card + 1
end
local excess = card - max
local victims = {}
if excess > 0 then
  -- The `excess` lowest scores other than the device being trusted.
  for _, member in ipairs(redis.call('ZRANGE', idx, 0, excess)) do
    if member ~= id and #victims < excess then
      victims[#victims + 1] = member
    end
  end
  for _, member in ipairs(victims) do
    if not candidates[member] then
      -- Name every member (the index is small: the bound plus one), so that trusts running
      -- concurrently, which evict some of them first, do not send the caller round again.
      local reply = { 0 }
      for _, v in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
        if v ~= id then
          reply[#reply + 1] = v
        end
      end
      return reply
    end
  end
end

redis.call('SET', record, ARGV[3], 'PX', ARGV[4])
redis.call('ZADD', idx, ARGV[5], id)
local reply = { 1 }
for _, member in ipairs(victims) do
  redis.call('ZREM', idx, member)
  local i = candidates[member]
  redis.call('DEL', KEYS[i])
  reply[#reply + 1] = member
end
local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', idx, math.ceil(tonumber(top[2]) - now + tonumber(ARGV[6])))
return reply
