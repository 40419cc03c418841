--[[
  Raises a user's "revoked before" watermark. It only moves forward, and its life is never
  shortened: a late or replayed call cannot un-revoke tokens.

  Input:
    KEYS[1] user watermark  STRING JSON {"beforeMs": ms, "expiresAt": ms}

    ARGV[1] now (ms)
    ARGV[2] beforeMs (ms): tokens of the user issued before it are revoked
    ARGV[3] TTL (ms, > 0)

  Output:
    the watermark now in force (ms), as a string
]]
local now = tonumber(ARGV[1])
local before = tonumber(ARGV[2])
local expiresAt = now + tonumber(ARGV[3])

local current = redis.call('GET', KEYS[1])
if current then
  local ok, w = pcall(cjson.decode, current)
  if ok and type(w) == 'table' and tonumber(w.expiresAt) and tonumber(w.expiresAt) > now then
    if tonumber(w.beforeMs) and tonumber(w.beforeMs) > before then
      before = tonumber(w.beforeMs)
    end
    if tonumber(w.expiresAt) > expiresAt then
      expiresAt = tonumber(w.expiresAt)
    end
  end
end

local function num(n)
  if n == math.floor(n) then
    return string.format('%.0f', n)
  end
  return string.format('%.17g', n)
end

redis.call('SET', KEYS[1], '{"beforeMs":' .. num(before) .. ',"expiresAt":' .. num(expiresAt) .. '}',
  'PX', math.ceil(expiresAt - now))
return num(before)
