--[[
  Revoke-all for one user: raises the user's generation and "revoked before" watermark. Both only
  move forward, and the record's life is never shortened: a late or replayed call cannot
  un-revoke tokens.

  The generation is what new tokens and families are checked against (docs/data-model.md, "User
  generation"): every family created, and every token minted, carries the generation in force
  when it was made, and is revoked once the generation moves past it. It is clock-independent: a
  plain counter compared with itself, so no instance clock decides what a revoke-all covers. It
  becomes max(previous + 1, ARGV[1]): +1 orders revokes that follow each other (in the same
  millisecond too); the clock only seeds it after the record has expired and been forgotten, so
  that it starts above any generation a live token or family can still carry (those were set at
  least the record's TTL ago, far more than any clock skew between instances).

  `beforeMs` (the instance clock's now + 1) still revokes tokens and families written before
  generations existed (no `ugen`); they have all expired one token lifetime after the upgrade.

  Input:
    KEYS[1] user watermark  STRING JSON {"beforeMs": ms, "expiresAt": ms, "gen": n}

    ARGV[1] now (ms); also the floor of a new generation
    ARGV[2] beforeMs (ms): legacy tokens of the user issued before it are revoked
    ARGV[3] TTL (ms, > 0)

  Output:
    the generation now in force, as a string
]]
local now = tonumber(ARGV[1])
local before = tonumber(ARGV[2])
local expiresAt = now + tonumber(ARGV[3])
local gen = now

local current = redis.call('GET', KEYS[1])
if current then
  local ok, w = pcall(cjson.decode, current)
  if ok and type(w) == 'table' then
    if tonumber(w.gen) and tonumber(w.gen) + 1 > gen then
      gen = tonumber(w.gen) + 1
    end
    if tonumber(w.expiresAt) and tonumber(w.expiresAt) > now then
      if tonumber(w.beforeMs) and tonumber(w.beforeMs) > before then
        before = tonumber(w.beforeMs)
      end
      if tonumber(w.expiresAt) > expiresAt then
        expiresAt = tonumber(w.expiresAt)
      end
    end
  end
end

local function num(n)
  if n == math.floor(n) then
    return string.format('%.0f', n)
  end
  return string.format('%.17g', n)
end

redis.call('SET', KEYS[1],
  '{"beforeMs":' .. num(before) .. ',"expiresAt":' .. num(expiresAt) .. ',"gen":' .. num(gen) .. '}',
  'PX', math.ceil(expiresAt - now))
return num(gen)
