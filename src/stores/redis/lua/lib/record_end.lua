-- Included by every script that reads a session record's times (`-- #include record_end`), so the
-- one Lua decoder of them lives in one place; it must read what `encodeSession` in `../records.ts`
-- writes.
--
-- The session record's own end: min(expiresAt, absoluteExpiresAt) in ms, or nil when it does not
-- parse. Two forms: the JSON fallback (starts with '{') and the packed form, whose header starts
-- with the base-36 fields createdAt.expiresAt-offset.absoluteExpiresAt-offset.
local function recordEnd(v)
  if string.byte(v, 1) == 123 then -- '{': the JSON form
    local ok, s = pcall(cjson.decode, v)
    if not ok or type(s) ~= 'table' then return nil end
    local e, a = tonumber(s.expiresAt), tonumber(s.absoluteExpiresAt)
    if not e or not a then return nil end
    return math.min(e, a)
  end
  local c, e, a = string.match(v, '^(%w+)%.(%w+)%.(%w+)%.')
  c, e, a = tonumber(c or '', 36), tonumber(e or '', 36), tonumber(a or '', 36)
  if not c or not e or not a then return nil end
  return c + math.min(e, a)
end

-- The record's lastActivity in ms, or nil when it does not parse (same two forms; the packed
-- header's fourth field is lastActivity - createdAt).
local function recordLastActivity(v)
  if string.byte(v, 1) == 123 then -- '{': the JSON form
    local ok, s = pcall(cjson.decode, v)
    if not ok or type(s) ~= 'table' then return nil end
    return tonumber(s.lastActivity)
  end
  local c, l = string.match(v, '^(%w+)%.%w+%.%w+%.(%w+)%.')
  c, l = tonumber(c or '', 36), tonumber(l or '', 36)
  if not c or not l then return nil end
  return c + l
end

-- The record's absoluteExpiresAt in ms (the end no activity moves), or nil when it does not parse.
local function recordAbsoluteEnd(v)
  if string.byte(v, 1) == 123 then -- '{': the JSON form
    local ok, s = pcall(cjson.decode, v)
    if not ok or type(s) ~= 'table' then return nil end
    return tonumber(s.absoluteExpiresAt)
  end
  local c, a = string.match(v, '^(%w+)%.%w+%.(%w+)%.')
  c, a = tonumber(c or '', 36), tonumber(a or '', 36)
  if not c or not a then return nil end
  return c + a
end

-- The record's createdAt in ms, or nil when it does not parse (same two forms; the packed header's
-- first field).
local function recordCreatedAt(v)
  if string.byte(v, 1) == 123 then -- '{': the JSON form
    local ok, s = pcall(cjson.decode, v)
    if not ok or type(s) ~= 'table' then return nil end
    return tonumber(s.createdAt)
  end
  return tonumber(string.match(v, '^(%w+)%.') or '', 36)
end
