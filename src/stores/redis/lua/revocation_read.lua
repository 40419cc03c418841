--[[
  Reads, in one call, what a revocation check needs from the user's slot: the user's revoke-all
  record, the family's `revoked` and `expiresAt`, and the session's score in the user index; and,
  when asked (ARGV[3]), the jti's blacklist entry too. Used on Cluster, where the blacklist entry
  lives on its own slot and is read apart (off Cluster, `revocation_read_batch.lua` reads several
  checks at once). Read-only. Sent on the tracked connection when the client-side
  cache is on: Redis tracks the keys a script reads for the connection that called it, so a
  verdict derived from this reply is invalidated when any of them is written.

  Input:
    KEYS[1] user watermark  STRING JSON {beforeMs, expiresAt, gen}
    KEYS[2] family          HASH (… revoked expiresAt …); KEYS[1] again when ARGV[1] is '0'
    KEYS[3] user index      ZSET sessionId -> expiry (ms); KEYS[1] again when ARGV[2] is ''
    KEYS[4] blacklist entry STRING JSON of the jti (another slot: never on Cluster); KEYS[1]
            again when ARGV[3] is '0'

    ARGV[1] '1' to read the family in KEYS[2], '0' when the token has none
    ARGV[2] the session id whose score to read in KEYS[3], or '' when the token has none
    ARGV[3] '1' to read the blacklist entry in KEYS[4], '0' when the caller reads it apart

  Output:
    {watermark, revoked, expiresAt, score, entry}: each a string, or false when absent or not
    asked (the caller reads false and nil alike).
]]
local watermark, family, userIdx, blacklist = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local mark = redis.call('GET', watermark)
local revoked, expiresAt = false, false
if ARGV[1] == '1' then
  local f = redis.call('HMGET', family, 'revoked', 'expiresAt')
  revoked, expiresAt = f[1], f[2]
end
local score = false
if ARGV[2] ~= '' then
  score = redis.call('ZSCORE', userIdx, ARGV[2])
end
local entry = false
if ARGV[3] == '1' then
  entry = redis.call('GET', blacklist)
end
return { mark, revoked, expiresAt, score, entry }
