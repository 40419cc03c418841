--[[
  Revokes a refresh-token family on presentation of one of its tokens (logout with a refresh
  token). A hash the family never had changes nothing.

  Input:
    KEYS[1] family  HASH (see family_rotate.lua)
    KEYS[2] the family's revocation mark (keys.ts `familyRevoked`): written and deleted, same slot

    ARGV[1] now (ms)
    ARGV[2] presented token hash
    ARGV[3] reason (recorded unless the family is already revoked: the first reason is kept)

  Output:
    {userId, sessionId, gen, createdAt, expiresAt, revoked, reason, claims, ugen} as it now is, or nil when
    the family is unknown, expired, or the hash is none of cur, prev and r0..r31
]]
local family = KEYS[1]
local fields = { 'expiresAt', 'revoked', 'cur', 'prev' }
for i = 0, 31 do
  fields[#fields + 1] = 'r' .. i
end
local f = redis.call('HMGET', family, unpack(fields))
if not f[1] or tonumber(f[1]) <= tonumber(ARGV[1]) then
  return false
end
local known = false
for i = 3, #f do
  if f[i] and f[i] == ARGV[2] then
    known = true
    break
  end
end
if not known then
  return false
end
if f[2] ~= '1' then
  redis.call('HSET', family, 'revoked', '1', 'reason', ARGV[3])
  -- The revocation mark: written and deleted at once (broadcasting listeners hear it; nothing stays).
  redis.call('SET', KEYS[2], '1')
  redis.call('DEL', KEYS[2])
end
return redis.call('HMGET', family, 'userId', 'sessionId', 'gen', 'createdAt', 'expiresAt', 'revoked', 'reason',
  'claims', 'ugen')
