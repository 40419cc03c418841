--[[
  Consumes a presented refresh-token hash: one compare-and-set over the family, its session and
  the user's watermark (all on the user's slot), so concurrent presentations cannot fork it.
  The caller read the family first (to learn its user and session, from which KEYS are built) and
  handled unknown and expired families; everything is checked again here, and a family whose user
  or session is not the one the caller named ('stale') is left alone.

  Input:
    KEYS[1] family              HASH userId sessionId cur prev rotatedAt child gen createdAt
                                     expiresAt revoked reason claims ugen r0..r31
    KEYS[2] session record      STRING (compact record, see records.ts) of the family's session
    KEYS[3] user index          ZSET sessionId -> expiry (ms)
    KEYS[4] user watermark      STRING JSON {beforeMs, expiresAt, gen}
    KEYS[5] revocation mark     (keys.ts `familyRevoked`): written and deleted when reuse revokes

    ARGV[1] now (ms)
    ARGV[2] the family's session id, as the caller read it
    ARGV[3] presented token hash
    ARGV[4] next token hash
    ARGV[5] child blob (what the caller returns again within the grace window)
    ARGV[6] grace window (ms, >= 0)
    ARGV[7] the reason recorded when reuse revokes the family
    ARGV[8] the family's user id, as the caller read it (KEYS[4] is that user's watermark)

  The family keeps its last 32 rotated (consumed) hashes in the ring fields r0..r31: a rotation
  from generation g writes the consumed hash to r<g mod 32>. A hash that is neither cur, prev nor
  in the ring was never the family's: 'invalid', and nothing changes (a forged secret for a known
  family id must not be able to revoke the family).

  Checks run in this order: not_found, invalid, revoked (flag, then the user's generation or, for
  a family without `ugen`, the legacy time watermark), session_ended (for cur and prev only), then
  rotated / grace / reused. The secret is checked first so that nothing about a family is revealed
  to someone who does not hold one of its tokens.

  Output: {status, {userId, sessionId, gen, createdAt, expiresAt, revoked, reason, claims, ugen}, extra}
    'not_found'      unknown or expired family (no view)
    'stale'          the family's session id is not ARGV[2] or its user id not ARGV[8] (the caller
                     named another family's owner: nothing is read or written)
    'revoked'        already revoked
    'user_revoked'   the user's generation is past the family's `ugen` (or the legacy watermark is
                     after its creation): reported, not written
    'invalid'        the presented hash was never one of the family's tokens (no view)
    'session_ended'  cur or prev was presented but the family's session is not live
    'rotated'        cur was presented: the family moved on to ARGV[4]; extra = the session record
                     (the session is live: read and checked here)
    'grace'          prev was presented within the grace window; extra = the stored child blob,
                     and a fourth element the session record (live, as for 'rotated')
    'reused'         prev after the window, or a ring hash: the family is revoked and its session
                     ended, here; extra = the session record if the session was live, else nil
]]
local family, record, userIdx, watermark = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = tonumber(ARGV[1])

-- #include record_end (recordEnd(v): the record's own end in ms, or nil)

local function view()
  return redis.call('HMGET', family, 'userId', 'sessionId', 'gen', 'createdAt', 'expiresAt', 'revoked', 'reason',
    'claims', 'ugen')
end

local f = redis.call('HMGET', family, 'sessionId', 'cur', 'prev', 'rotatedAt', 'child', 'gen', 'createdAt',
  'expiresAt', 'revoked', 'ugen', 'userId')
local sid, cur, prev, rotatedAt, child, gen, createdAt, expiresAt, revoked, ugen, uid =
  f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11]

if not expiresAt or tonumber(expiresAt) <= now then
  return { 'not_found' }
end
if sid ~= ARGV[2] or uid ~= ARGV[8] then
  return { 'stale' }
end
local presented = ARGV[3]
local current = presented == cur
local previous = prev and presented == prev
if not current and not previous then
  local ring = {}
  for i = 0, 31 do
    ring[#ring + 1] = 'r' .. i
  end
  local known = false
  for _, hash in ipairs(redis.call('HMGET', family, unpack(ring))) do
    if hash == presented then
      known = true
      break
    end
  end
  if not known then
    return { 'invalid' }
  end
end

-- Only now, with a hash the family really had, is anything said about the family's state: a
-- made-up secret for a real family id (visible in tokens' `fid`) learns nothing (always 'invalid').
if revoked == '1' then
  return { 'revoked', view() }
end

-- Revoked by the user's revoke-all: a family created under an older user generation (or, for a
-- family written before generations existed, created before the legacy time watermark).
local mark = redis.call('GET', watermark)
if mark then
  local ok, w = pcall(cjson.decode, mark)
  if ok and type(w) == 'table' then
    if ugen then
      if tonumber(w.gen) and tonumber(w.gen) > tonumber(ugen) then
        return { 'user_revoked', view() }
      end
    elseif tonumber(w.expiresAt) and tonumber(w.expiresAt) > now
      and tonumber(w.beforeMs) and tonumber(w.beforeMs) > tonumber(createdAt) then
      return { 'user_revoked', view() }
    end
  end
end

-- Is the session live: in the user index with a future score, record present and unexpired?
local score = redis.call('ZSCORE', userIdx, sid)
local json = false
if score and tonumber(score) > now then
  json = redis.call('GET', record)
end
if json then
  local stop = recordEnd(json)
  if not stop or stop <= now then
    json = false
  end
end
if not json and (current or previous) then
  return { 'session_ended', view() }
end

if current then
  redis.call('HSET', family, 'prev', cur, 'cur', ARGV[4], 'rotatedAt', ARGV[1], 'child', ARGV[5],
    'gen', tostring(tonumber(gen) + 1), 'r' .. (tonumber(gen) % 32), cur)
  return { 'rotated', view(), json }
end
if previous and rotatedAt and child and now - tonumber(rotatedAt) <= tonumber(ARGV[6]) then
  return { 'grace', view(), child, json }
end

-- Reuse: revoke the family and end its session (if still there) in this same step.
redis.call('HSET', family, 'revoked', '1', 'reason', ARGV[7])
-- The revocation mark: written and deleted at once (broadcasting listeners hear it; nothing stays).
redis.call('SET', KEYS[5], '1')
redis.call('DEL', KEYS[5])
redis.call('DEL', record)
redis.call('ZREM', userIdx, sid)
return { 'reused', view(), json }
