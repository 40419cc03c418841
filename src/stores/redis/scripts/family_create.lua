--[[
  Creates a refresh-token family, unless one with this id exists (re-creating would un-revoke a
  revoked family or restart a rotated one).

  Input:
    KEYS[1] family  HASH

    ARGV[1] now (ms)
    ARGV[2] TTL (ms, > 0)
    ARGV[3..n] field, value pairs of the new family (userId, sessionId, cur, gen, createdAt,
               expiresAt, revoked, and claims when given)

  Output:
    1 created; 0 a family with this id exists and has not expired (nothing written)
]]
local family = KEYS[1]
local expiresAt = redis.call('HGET', family, 'expiresAt')
if expiresAt and tonumber(expiresAt) > tonumber(ARGV[1]) then
  return 0
end
redis.call('DEL', family)
redis.call('HSET', family, unpack(ARGV, 3))
redis.call('PEXPIRE', family, ARGV[2])
return 1
