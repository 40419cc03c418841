--[[
  Creates a session: prunes the user's index, enforces the cap, writes the record and indexes it,
  and records the login's security events, all in one step on the user's slot.

  At the cap the script needs each live session's createdAt, which only the records hold. Records
  are keys, and every key a script touches must be declared: the first call declares none and,
  when the user is at the cap, gets {'declare', ids...} back; the caller calls again with those
  records declared and ARGV[9] = '1'. On that second call, members added since (concurrent
  creates) count as the newest sessions.

  The events (optional, ARGV[11] > 0) are written as `event_record.lua` writes one, into the user's
  event index on the same slot, once the session is in: `session_created` always and `new_device`
  when the device is new to the user (not on a live session of theirs before this one, not
  trusted by a live trusted-device record). The event index is pruned of events past the
  retention; when the events would take it past its bound, they are not written here (trimming
  deletes the oldest events' records, which are not declared) and the reply says so: the caller
  records them through `event_record.lua`.

  Input:
    KEYS[1]    user index      ZSET sessionId -> expiry (ms); the authority on live sessions
    KEYS[2]    session record  STRING (compact record, see records.ts)
    KEYS[3]    swept set       ZSET sessionId -> until (ms), see session_sweep_check.lua
    KEYS[4..n] in this order, all on the same slot:
               with events (E = ARGV[11] keys): KEYS[4] the user's event index (ZSET eventId ->
               timestamp), KEYS[5] the session_created event's record; E = 4 adds KEYS[6] the
               new_device event's record and KEYS[7] the trusted-device record of the session's
               device (STRING JSON, read only);
               then the records of the user's other sessions, declared on the second call

    ARGV[1]    now (ms, from the caller's clock)
    ARGV[2]    session id
    ARGV[3]    expiresAt (ms, > now; never past absoluteExpiresAt): the index score
    ARGV[4]    the record
    ARGV[5]    record TTL (ms, > 0)
    ARGV[6]    cap on live sessions (0 = no cap)
    ARGV[7]    policy at the cap: 'deny' | 'evict-oldest'
    ARGV[8]    index TTL slack (ms): each index outlives its latest member (events: their records)
               by this much
    ARGV[9]    '1' when the other records are declared (second call), '0' otherwise
    ARGV[10]   device candidates: ids of the user's sessions found in the new session's device
               index, space-separated ('' for none); any of them live in the user index before
               this create makes `seen` 1
    ARGV[11]   E, the event keys passed: 0 (no events), 2 (session_created), 4 (and new_device)
    ARGV[12..n] with events:
      ARGV[12] the event index's prune bound (ms, now - retention)
      ARGV[13] the event index's bound (> 0)
      ARGV[14] session_created's event id
      ARGV[15] its timestamp (ms): the index score
      ARGV[16] its record TTL (ms, > 0)
      ARGV[17] its record (JSON)
      ARGV[18], ARGV[19], ARGV[20], ARGV[21]: the same four for new_device (E = 4)
    then the session id of each declared record, in KEYS order

  Output:
    {'ok', {evictedId, record or false, ...}, {deadId, record or false, ...}, seen, events, newDevice,
     swept}
        evicted: oldest first, out of the index (ended); a declared record was deleted here and is
        returned, an undeclared one (false) is still there for the caller to delete (same slot).
        dead: members whose record was gone or expired, removed from the index (same convention).
        seen: 1 when a device candidate was live in the index (before any eviction), else 0.
        events: 0 none asked, 1 written, 2 not written (the bound): the caller records them.
        newDevice: 1 when the device is new to the user (with E = 4), else 0.
        swept: 1 when a cleanup sweep found this session id not live (between the caller's
        device-index add and this script) and may have removed its device entry: add it again.
    {'declare', {id, ...}} at the cap on the first call: the other members, whose records to declare
    {'limit', liveCount}   'deny' policy at the cap; nothing was written
]]
local userIdx, record = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local sid = ARGV[2]
local cap = tonumber(ARGV[6])
local eventKeys = tonumber(ARGV[11])
local eventArgs = ({ [0] = 0, [2] = 6, [4] = 10 })[eventKeys]
-- Where the declared records start, in KEYS and in ARGV (their ids).
local firstDeclaredKey = 4 + eventKeys
local firstDeclaredArg = 12 + eventArgs

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
    for i = firstDeclaredKey, #KEYS do
      declared[ARGV[i - firstDeclaredKey + firstDeclaredArg]] = i
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

-- The login's events, as event_record.lua writes one (same record, index entry and TTLs).
local events, newDevice = 0, 0
if eventKeys > 0 then
  if eventKeys == 4 and seen == 0 then
    newDevice = 1
    local json = redis.call('GET', KEYS[7])
    if json then
      local ok, d = pcall(cjson.decode, json)
      -- A readable, unexpired trust (as records.ts decodes one): the device is known.
      if ok and type(d) == 'table' and type(d.deviceId) == 'string' and type(d.userId) == 'string'
        and type(d.trustedAt) == 'number' and type(d.expiresAt) == 'number' and d.expiresAt > now then
        newDevice = 0
      end
    end
  end
  local eventIdx = KEYS[4]
  redis.call('ZREMRANGEBYSCORE', eventIdx, '-inf', ARGV[12])
  if redis.call('ZCARD', eventIdx) + 1 + newDevice <= tonumber(ARGV[13]) then
    local longest = tonumber(ARGV[16])
    redis.call('SET', KEYS[5], ARGV[17], 'PX', ARGV[16])
    redis.call('ZADD', eventIdx, ARGV[15], ARGV[14])
    if newDevice == 1 then
      redis.call('SET', KEYS[6], ARGV[21], 'PX', ARGV[20])
      redis.call('ZADD', eventIdx, ARGV[19], ARGV[18])
      longest = math.max(longest, tonumber(ARGV[20]))
    end
    local ttl = longest + tonumber(ARGV[8])
    if redis.call('PTTL', eventIdx) < ttl then
      redis.call('PEXPIRE', eventIdx, ttl)
    end
    events = 1
  else
    events = 2
  end
end
-- Did a sweep note this id (and so perhaps remove its device entry) before it went live?
local swept = 0
if redis.call('ZREM', KEYS[3], sid) == 1 then
  swept = 1
end
return { 'ok', evicted, dead, seen, events, newDevice, swept }
