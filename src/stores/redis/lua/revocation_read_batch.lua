--[[
  Reads, in one call, what several revocation checks need (one entry per check): the user's
  revoke-all record, the jti's blacklist entry, the family's `revoked` and `expiresAt`, and the
  session's score in the user index. Read-only. Used off Cluster only: the keys of several users
  and jtis live on different slots (on Cluster each check goes alone, `revocation_read.lua`).
  Sent on the tracked connection when the client-side cache is on: Redis tracks every key a
  script reads for the connection that called it (default mode), or every key under the tracked
  prefixes (broadcasting mode), so each verdict derived from this reply is invalidated when any
  of its keys is written.

  The string keys of every check (watermark, blacklist entry) are read by one MGET: in default
  tracking mode Redis 7.0 re-records every declared key of the script at each read command it
  makes, so 1 + 2 × checks reads instead of 4 × checks halve that work.

  Input: (c checks)
    KEYS[1..n] first two per check, in the order of the checks (KEYS[1] to KEYS[2c]): the user
               watermark (STRING JSON {beforeMs, expiresAt, gen}) and the jti's blacklist entry
               (STRING JSON); then, per check in order, the family (HASH … revoked expiresAt …)
               when its ARGV flag is '1' and the user index (ZSET sessionId -> expiry, ms) when
               its ARGV session id is not ''
    ARGV[1..n] two per check, in the order of the checks: '1' when the check reads a family,
               '0' when not; the session id whose score to read, or ''

  Output:
    {watermark, revoked, expiresAt, score, entry, …}: five per check, in the order of the checks,
    each a string, or false when absent or not asked (the caller reads false and nil alike).
]]
-- The string keys of every check come first in KEYS (2 per check): one MGET reads them all.
local checks = #ARGV / 2
local got = redis.call('MGET', unpack(KEYS, 1, 2 * checks))
-- Then, per check, the family and the session score.
local out = {}
local i = 2 * checks + 1
for c = 1, #ARGV, 2 do
  local revoked, expiresAt = false, false
  if ARGV[c] == '1' then
    local f = redis.call('HMGET', KEYS[i], 'revoked', 'expiresAt')
    revoked, expiresAt = f[1], f[2]
    i = i + 1
  end
  local score = false
  local sid = ARGV[c + 1]
  if sid ~= '' then
    score = redis.call('ZSCORE', KEYS[i], sid)
    i = i + 1
  end
  local o = #out
  out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = got[c], revoked, expiresAt, score, got[c + 1]
end
return out
