--[[
  The deployment's id-tag secret: creates it once (no TTL), then always returns the one stored.
  Every instance and the CLI of one deployment read it at connect, so they seal and open the same
  generated ids (see `createIdCodec` in src/core/ids.ts).

  Input:
    KEYS[1] id-tag secret  STRING base64url of at least 32 random bytes, no TTL

    ARGV[1] a fresh candidate secret (used only when none is stored)

  Output:
    the stored secret (the candidate when this call created it)
]]
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
