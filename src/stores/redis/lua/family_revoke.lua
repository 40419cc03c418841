--[[
  Marks a refresh-token family revoked for at least a TTL; creates a tombstone when the family is
  unknown (or expired) so that every token naming it is still refused. Never shortens the life of
  the family record.

  Input:
    KEYS[1] family  HASH
    KEYS[2] the family's revocation mark (keys.ts `familyRevoked`): written and deleted, same slot

    ARGV[1] now (ms)
    ARGV[2] TTL (ms, > 0): the family stays revoked at least this long
    ARGV[3] reason

  Output:
    the family's expiry (ms), as a string
]]
local family = KEYS[1]
local now = tonumber(ARGV[1])
local untilMs = now + tonumber(ARGV[2])
local expiresAt = tonumber(redis.call('HGET', family, 'expiresAt') or '0')
if expiresAt <= now then
  -- Unknown or expired: a tombstone with no owner.
  redis.call('DEL', family)
  redis.call('HSET', family, 'userId', '', 'sessionId', '', 'gen', '0', 'createdAt', ARGV[1])
  expiresAt = untilMs
elseif untilMs > expiresAt then
  expiresAt = untilMs
end
local expiry = string.format('%.0f', expiresAt)
redis.call('HSET', family, 'revoked', '1', 'reason', ARGV[3], 'expiresAt', expiry)
redis.call('PEXPIRE', family, math.ceil(expiresAt - now))
-- The revocation mark: written and deleted at once (broadcasting listeners hear it; nothing stays).
redis.call('SET', KEYS[2], '1')
redis.call('DEL', KEYS[2])
return expiry
