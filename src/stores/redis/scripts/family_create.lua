--[[
  Creates a refresh-token family, unless one with this id exists (re-creating would un-revoke a
  revoked family or restart a rotated one). The family records the user's generation in force now
  (`ugen`, read from the user's revoke-all record in this same step), so a revoke-all that returned
  before this call revokes nothing of it, and one that returns after it revokes all of it.

  Input:
    KEYS[1] family          HASH
    KEYS[2] user watermark  STRING JSON {beforeMs, expiresAt, gen} (same slot: the user's tag)

    ARGV[1] now (ms)
    ARGV[2] TTL (ms, > 0)
    ARGV[3..n] field, value pairs of the new family (userId, sessionId, cur, gen, createdAt,
               expiresAt, revoked, and claims when given); `ugen` is added here

  Output:
    the family's `ugen` (>= 0) when created; -1 when a family with this id exists and has not
    expired (nothing written)
]]
local family = KEYS[1]
local expiresAt = redis.call('HGET', family, 'expiresAt')
if expiresAt and tonumber(expiresAt) > tonumber(ARGV[1]) then
  return '-1'
end
local ugen = 0
local mark = redis.call('GET', KEYS[2])
if mark then
  local ok, w = pcall(cjson.decode, mark)
  if ok and type(w) == 'table' and tonumber(w.gen) then
    ugen = tonumber(w.gen)
  end
end
local gen = string.format('%.0f', ugen)
redis.call('DEL', family)
redis.call('HSET', family, 'ugen', gen, unpack(ARGV, 3))
redis.call('PEXPIRE', family, ARGV[2])
return gen
