--[[
  Reads, in one call, what several revocation checks need (one entry per check): the user's
  revoke-all record, the jti's blacklist entry, the family's `revoked` and `expiresAt`, and the
  session's score in the user index. Read-only. Used off Cluster only: the keys of several users
  and jtis live on different slots (on Cluster each check goes alone, `revocation_read.lua`).
  Sent on the tracked connection when the client-side cache is on: Redis tracks every key a
  script reads for the connection that called it, so each verdict derived from this reply is
  invalidated when any of its keys is written.

  Input:
    KEYS[1..n] per check, in order: the user watermark (STRING JSON {beforeMs, expiresAt, gen}),
               the jti's blacklist entry (STRING JSON), then the family (HASH … revoked
               expiresAt …) when its ARGV flag is '1', then the user index (ZSET sessionId ->
               expiry, ms) when its ARGV session id is not ''
    ARGV[1..n] two per check, in the order of the checks: '1' when the check reads a family,
               '0' when not; the session id whose score to read, or ''

  Output:
    {watermark, revoked, expiresAt, score, entry, …}: five per check, in the order of the checks,
    each a string, or false when absent or not asked (the caller reads false and nil alike).
]]
local out = {}
local i = 1
for c = 1, #ARGV, 2 do
  local mark = redis.call('GET', KEYS[i])
  i = i + 1
  local entry = redis.call('GET', KEYS[i])
  i = i + 1
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
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5] = mark, revoked, expiresAt, score, entry
end
return out
