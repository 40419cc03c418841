--[[
  Creates a session: prunes the user's index, enforces the cap, writes the record and indexes it,
  all in one step on the user's slot.

  At the cap the script needs each live session's createdAt, which only the records hold. Records
  are keys, and every key a script touches must be declared: the first call declares none and,
  when the user is at the cap, gets {'declare', ids...} back; the caller calls again with those
  records in KEYS[3..n] and ARGV[9] = '1'. On that second call, members added since (concurrent
  creates) count as the newest sessions.

  Input:
    KEYS[1]    user index      ZSET sessionId -> expiry (ms); the authority on live sessions
    KEYS[2]    session record  STRING (compact record, see records.ts)
    KEYS[3..n] records of the user's other sessions (same slot), declared on the second call

    ARGV[1]    now (ms, from the caller's clock)
    ARGV[2]    session id
    ARGV[3]    expiresAt (ms, > now; never past absoluteExpiresAt): the index score
    ARGV[4]    the record
    ARGV[5]    record TTL (ms, > 0)
    ARGV[6]    cap on live sessions (0 = no cap)
    ARGV[7]    policy at the cap: 'deny' | 'evict-oldest'
    ARGV[8]    index TTL slack (ms): the index outlives its latest member by this much
    ARGV[9]    '1' when KEYS[3..n] are declared (second call), '0' otherwise
    ARGV[10]   device candidates: ids of the user's sessions found in the new session's device
               index, space-separated ('' for none); any of them live in the user index before
               this create makes `seen` 1
    ARGV[11..n] the session id of KEYS[i - 8] (ARGV[11] belongs to KEYS[3])

  Output:
    {'ok', {evictedId, record or false, ...}, {deadId, record or false, ...}, seen}
        evicted: oldest first, out of the index (ended); a declared record was deleted here and is
        returned, an undeclared one (false) is still there for the caller to delete (same slot).
        dead: members whose record was gone or expired, removed from the index (same convention).
        seen: 1 when a device candidate was live in the index (before any eviction), else 0.
    {'declare', {id, ...}} at the cap on the first call: the other members, whose records to declare
    {'limit', liveCount}   'deny' policy at the cap; nothing was written
]]
local userIdx, record = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local sid = ARGV[2]
local cap = tonumber(ARGV[6])

-- #include record_end (recordEnd(v), recordCreatedAt(v))

-- createdAt and the record's own end (min of expiresAt and absoluteExpiresAt), or nil.
local function recordTimes(v)
  if not v then return nil end
  local c, stop = recordCreatedAt(v), recordEnd(v)
  if not c or not stop then return nil end
  return c, stop
end

-- Byte order (string '<' follows the server's collation locale).
local function byteLess(x, y)
  for k = 1, math.min(#x, #y) do
    local a, b = string.byte(x, k), string.byte(y, k)
    if a ~= b then return a < b end
  end
  return #x < #y
end

-- Prune on write: expired members leave the index (chunks keep unpack() under Lua's stack limit).
local expired = redis.call('ZRANGE', userIdx, '-inf', now, 'BYSCORE')
for i = 1, #expired, 500 do
  redis.call('ZREM', userIdx, unpack(expired, i, math.min(i + 499, #expired)))
end

-- Was the device already on a live session of the user (decided before anything is evicted)?
local seen = 0
for candidate in string.gmatch(ARGV[10], '%S+') do
  if candidate ~= sid then
    local score = redis.call('ZSCORE', userIdx, candidate)
    if score and tonumber(score) > now then
      seen = 1
      break
    end
  end
end

local evicted, dead = {}, {}
if cap > 0 then
  local others = {}
  for _, member in ipairs(redis.call('ZRANGE', userIdx, 0, -1)) do
    if member ~= sid then others[#others + 1] = member end
  end
  if #others >= cap then
    if ARGV[9] ~= '1' then
      return { 'declare', others }
    end
    local declared = {}
    for i = 3, #KEYS do
      declared[ARGV[i + 8]] = i
    end
    local live, undeclared = {}, {}
    for _, member in ipairs(others) do
      local i = declared[member]
      if i then
        local v = redis.call('GET', KEYS[i])
        local created, stop = recordTimes(v)
        if created and stop > now then
          live[#live + 1] = { id = member, created = created, i = i, v = v }
        else
          redis.call('ZREM', userIdx, member)
          if v then redis.call('DEL', KEYS[i]) end
          dead[#dead + 1] = member
          dead[#dead + 1] = v or false
        end
      else
        undeclared[#undeclared + 1] = member -- soonest expiry first (index order)
      end
    end
    local count = #live + #undeclared
    if count >= cap then
      if ARGV[7] == 'deny' then
        return { 'limit', count }
      end
      local need = count - cap + 1
      -- Oldest first by createdAt, then by id (as the memory store).
      table.sort(live, function(x, y)
        if x.created ~= y.created then return x.created < y.created end
        return byteLess(x.id, y.id)
      end)
      for _, s in ipairs(live) do
        if need == 0 then break end
        local i = s.i
        redis.call('ZREM', userIdx, s.id)
        redis.call('DEL', KEYS[i])
        evicted[#evicted + 1] = s.id
        evicted[#evicted + 1] = s.v
        need = need - 1
      end
      for _, member in ipairs(undeclared) do
        if need == 0 then break end
        redis.call('ZREM', userIdx, member)
        evicted[#evicted + 1] = member
        evicted[#evicted + 1] = false
        need = need - 1
      end
    end
  end
end

redis.call('SET', record, ARGV[4], 'PX', ARGV[5])
redis.call('ZADD', userIdx, ARGV[3], sid)

-- The index lives as long as its latest member plus the slack (idle users' indexes vanish).
local top = redis.call('ZRANGE', userIdx, -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', userIdx, math.ceil(tonumber(top[2]) - now + tonumber(ARGV[8])))
return { 'ok', evicted, dead, seen }
