--[[
  Releases a lock only if this holder still owns it (another holder may have taken it after it
  expired).

  Input:
    KEYS[1] lock  STRING holder token

    ARGV[1] the holder's token

  Output:
    1 released; 0 not held by this token
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
