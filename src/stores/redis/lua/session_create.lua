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

  Off Cluster the session's device index can be passed too (ARGV[12] > 0, the one-step login):
  the script then adds the session to it as `session_device_add.lua` does (without the read), and
  decides `seen` itself from the device index. On Cluster the device index is on another slot: the
  caller adds the entry first with `session_device_add.lua` and passes its candidates (ARGV[10]).

  Input:
    KEYS[1]    user index      ZSET sessionId -> expiry (ms); the authority on live sessions
    KEYS[2]    session record  STRING (compact record, see records.ts)
    KEYS[3]    swept set       ZSET sessionId -> until (ms), see session_sweep_check.lua
    KEYS[4]    with ARGV[12] > 0 (off Cluster), the session's device index (ZSET sessionId ->
               expiry (ms), may hold other users' sessions and ended ones); with ARGV[12] = 0 the
               swept set again, not touched (a key of the user's slot keeps the positions fixed)
    KEYS[5..n] in this order, all on the user's slot:
               with events (E = ARGV[11] keys): KEYS[5] the user's event index (ZSET eventId ->
               timestamp), KEYS[6] the session_created event's record; E = 4 adds KEYS[7] the
               new_device event's record and KEYS[8] the trusted-device record of the session's
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
    ARGV[12]   D, the device index: 0 not passed, 1 passed (add the session to it), 2 passed, and
               `seen` is decided from it (ARGV[10] is then ''): under a cap, 1 when another of the
               user's live sessions is live in the device index; without a cap (the user index is
               not bounded), when one of the device index's first 256 live members is live in the
               user index, as on Cluster
    ARGV[13..n] with events:
      ARGV[13] the event index's prune bound (ms, now - retention)
      ARGV[14] the event index's bound (> 0)
      ARGV[15] session_created's event id
      ARGV[16] its timestamp (ms): the index score
      ARGV[17] its record TTL (ms, > 0)
      ARGV[18] its record (JSON)
      ARGV[19], ARGV[20], ARGV[21], ARGV[22]: the same four for new_device (E = 4)
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
        device-index add and this script) and may have removed its device entry: add it again
        (never needed with D > 0: the entry is written here).
    {'declare', {id, ...}} at the cap on the first call: the other members, whose records to declare
    {'limit', liveCount}   'deny' policy at the cap; nothing was written
]]
local userIdx, record = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local sid = ARGV[2]
local cap = tonumber(ARGV[6])
local eventKeys = tonumber(ARGV[11])
local deviceMode = tonumber(ARGV[12])
local eventArgs = ({ [0] = 0, [2] = 6, [4] = 10 })[eventKeys]
local deviceIdx = KEYS[4]
-- Where the declared records start, in KEYS and in ARGV (their ids).
local firstDeclaredKey = 5 + eventKeys
local firstDeclaredArg = 13 + eventArgs

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

-- Prune on write: expired members leave (chunks keep unpack() under Lua's stack limit). Under a
-- cap the whole index is read once (the cap's sessions and those expired since the last write):
-- `others` are the live members but this session, soonest expiry first, `scoreOf` their scores,
-- for the cap, "seen" and the index's TTL. Without a cap the index is not bounded, so only its
-- expired members are read (`others` stays nil).
local expired, others, scoreOf = {}, nil, {}
if cap > 0 then
  others = {}
  local all = redis.call('ZRANGE', userIdx, 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do
    local member, score = all[i], tonumber(all[i + 1])
    if score <= now then
      expired[#expired + 1] = member
    elseif member ~= sid then
      others[#others + 1] = member
      scoreOf[member] = score
    end
  end
else
  expired = redis.call('ZRANGE', userIdx, '-inf', now, 'BYSCORE')
end
for i = 1, #expired, 500 do
  redis.call('ZREM', userIdx, unpack(expired, i, math.min(i + 499, #expired)))
end

-- Is `member` (not this session) live in the user index?
local function liveInIndex(member)
  if member == sid then return false end
  if others then return scoreOf[member] ~= nil end
  local score = redis.call('ZSCORE', userIdx, member)
  return score ~= false and score ~= nil and tonumber(score) > now
end

-- Was the device already on a live session of the user (decided before anything is evicted)?
local seen = 0
if deviceMode == 2 and others then
  -- The user's live sessions (at most the cap): is one of them live on the device?
  for _, member in ipairs(others) do
    local score = redis.call('ZSCORE', deviceIdx, member)
    if score and tonumber(score) > now then
      seen = 1
      break
    end
  end
elseif deviceMode == 2 then
  -- No cap: the device's first live members (as session_device_add.lua answers them) instead.
  for _, member in ipairs(redis.call('ZRANGE', deviceIdx, '(' .. ARGV[1], '+inf', 'BYSCORE', 'LIMIT', 0, 256)) do
    if liveInIndex(member) then
      seen = 1
      break
    end
  end
else
  for candidate in string.gmatch(ARGV[10], '%S+') do
    if liveInIndex(candidate) then
      seen = 1
      break
    end
  end
end

local evicted, dead = {}, {}
if cap > 0 then
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
          scoreOf[member] = nil
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
        scoreOf[s.id] = nil
        redis.call('DEL', KEYS[i])
        evicted[#evicted + 1] = s.id
        evicted[#evicted + 1] = s.v
        need = need - 1
      end
      for _, member in ipairs(undeclared) do
        if need == 0 then break end
        redis.call('ZREM', userIdx, member)
        scoreOf[member] = nil
        evicted[#evicted + 1] = member
        evicted[#evicted + 1] = false
        need = need - 1
      end
    end
  end
end

redis.call('SET', record, ARGV[4], 'PX', ARGV[5])
redis.call('ZADD', userIdx, ARGV[3], sid)

-- The index lives as long as its latest member plus the slack (idle users' indexes vanish). Under
-- a cap the members left are known: this session and the live others not removed above.
local top = tonumber(ARGV[3])
if others then
  for _, score in pairs(scoreOf) do
    if score > top then top = score end
  end
else
  top = tonumber(redis.call('ZRANGE', userIdx, -1, -1, 'WITHSCORES')[2])
end
redis.call('PEXPIRE', userIdx, math.ceil(top - now + tonumber(ARGV[8])))

-- Off Cluster, the device index too (as session_device_add.lua, without its read): pruned of at
-- most 500 members scored at or before now, the session added, the TTL after its latest member.
if deviceMode > 0 then
  local stale = math.min(redis.call('ZCOUNT', deviceIdx, '-inf', now), 500)
  if stale > 0 then
    redis.call('ZREMRANGEBYRANK', deviceIdx, 0, stale - 1)
  end
  redis.call('ZADD', deviceIdx, ARGV[3], sid)
  local highest = redis.call('ZRANGE', deviceIdx, -1, -1, 'WITHSCORES')
  local ttl = math.ceil(tonumber(highest[2]) - now + tonumber(ARGV[8]))
  if ttl > 0 then
    redis.call('PEXPIRE', deviceIdx, ttl)
  end
end

-- The login's events, as event_record.lua writes one (same record, index entry and TTLs).
local events, newDevice = 0, 0
if eventKeys > 0 then
  if eventKeys == 4 and seen == 0 then
    newDevice = 1
    local json = redis.call('GET', KEYS[8])
    if json then
      local ok, d = pcall(cjson.decode, json)
      -- A readable, unexpired trust (as records.ts decodes one): the device is known.
      if ok and type(d) == 'table' and type(d.deviceId) == 'string' and type(d.userId) == 'string'
        and type(d.trustedAt) == 'number' and type(d.expiresAt) == 'number' and d.expiresAt > now then
        newDevice = 0
      end
    end
  end
  local eventIdx = KEYS[5]
  redis.call('ZREMRANGEBYSCORE', eventIdx, '-inf', ARGV[13])
  local count = redis.call('ZCARD', eventIdx)
  if count + 1 + newDevice <= tonumber(ARGV[14]) then
    local longest = tonumber(ARGV[17])
    redis.call('SET', KEYS[6], ARGV[18], 'PX', ARGV[17])
    redis.call('ZADD', eventIdx, ARGV[16], ARGV[15])
    if newDevice == 1 then
      redis.call('SET', KEYS[7], ARGV[22], 'PX', ARGV[21])
      redis.call('ZADD', eventIdx, ARGV[20], ARGV[19])
      longest = math.max(longest, tonumber(ARGV[21]))
    end
    local ttl = longest + tonumber(ARGV[8])
    -- An index that was empty (no key) has no TTL yet: no need to ask.
    if count == 0 or redis.call('PTTL', eventIdx) < ttl then
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
