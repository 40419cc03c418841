--[[
  Blacklists one jti. A revocation is never shortened: when a live entry already lasts at least
  as long, it is kept as it is (its reason and revokedAt too) and nothing is written.

  Input:
    KEYS[1] blacklist entry  STRING JSON {"userId", "reason", "revokedAt", "expiresAt"}

    ARGV[1] the new entry (JSON)
    ARGV[2] its expiry (ms)
    ARGV[3] now (ms)
    ARGV[4] TTL (ms, > 0)

  Output:
    1 when the entry was written, 0 when a longer one was kept
]]
local current = redis.call('GET', KEYS[1])
if current then
  local ok, e = pcall(cjson.decode, current)
  if ok and type(e) == 'table' and tonumber(e.expiresAt)
    and tonumber(e.expiresAt) > tonumber(ARGV[3])
    and tonumber(e.expiresAt) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return 1
