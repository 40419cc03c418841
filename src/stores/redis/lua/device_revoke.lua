--[[
  Removes trust from a device: its record and its index entry go together.

  Input:
    KEYS[1] trusted device record  STRING (JSON)
    KEYS[2] user trusted index     ZSET deviceId -> expiresAt (ms)

    ARGV[1] device id

  Output:
    the record JSON that was deleted, or nil
]]
local json = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return json
