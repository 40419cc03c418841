-- Included by every script that reads a session record's times (`-- #include record_end`), so the
-- one Lua decoder of them lives in one place; it must read what `encodeSession` in `../records.ts`
-- writes.
--
-- The record's times in ms: createdAt, expiresAt, absoluteExpiresAt, lastActivity (each nil when
-- it does not parse; all nil when the record does not). Two forms: the JSON fallback (starts with
-- '{') and the packed form, whose header starts with the base-36 fields
-- createdAt.expiresAt-offset.absoluteExpiresAt-offset.lastActivity-offset.
local function recordTimes(v)
  if string.byte(v, 1) == 123 then -- '{': the JSON form
    local ok, s = pcall(cjson.decode, v)
    if not ok or type(s) ~= 'table' then return nil end
    return tonumber(s.createdAt), tonumber(s.expiresAt), tonumber(s.absoluteExpiresAt), tonumber(s.lastActivity)
  end
  local c, e, a, l = string.match(v, '^(%w+)%.(%w+)%.(%w+)%.(%w+)%.')
  c = tonumber(c or '', 36)
  if not c then return nil end
  e, a, l = tonumber(e or '', 36), tonumber(a or '', 36), tonumber(l or '', 36)
  return c, e and c + e, a and c + a, l and c + l
end

-- The session record's own end: min(expiresAt, absoluteExpiresAt), or nil when it does not parse.
local function recordEnd(v)
  local _, e, a = recordTimes(v)
  if not e or not a then return nil end
  return math.min(e, a)
end

-- The record's lastActivity, or nil.
local function recordLastActivity(v)
  local _, _, _, l = recordTimes(v)
  return l
end

-- The record's absoluteExpiresAt (the end no activity moves), or nil.
local function recordAbsoluteEnd(v)
  local _, _, a = recordTimes(v)
  return a
end

-- The record's createdAt, or nil.
local function recordCreatedAt(v)
  return (recordTimes(v))
end
