--[[
  Counts requests in a fixed-window rate-limit bucket. Atomic, so concurrent requests from any
  number of instances count exactly. The window starts with its first request and ends by itself
  (PEXPIRE); a counter found without a TTL (never expected) is given one.

  Input:
    KEYS[1] the bucket's counter  STRING integer, PX = the window

    ARGV[1] window length (ms, >= 1)
    ARGV[2] requests to add (>= 1: requests that arrived together are counted in one call)

  Output:
    { count after them, ms left in the window }
]]
local current = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if current == tonumber(ARGV[2]) or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { current, ttl }
