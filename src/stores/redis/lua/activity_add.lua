--[[
  Adds one instance's counts to a minute's activity counters (the operator overview). Atomic, so
  the adds of any number of instances are each counted exactly once. Every counter of the call is
  (re)given the retention as its TTL: a minute's bucket lives the retention after its last add.
  All keys share the minute's hash tag (`activity:{<minute ms>}:<field>`): one slot on Cluster.

  Input:
    KEYS[1..n] the minute's counters   STRING integer, PX = the retention

    ARGV[1]    retention (ms, > 0)
    ARGV[2..n] what to add to KEYS[i] is ARGV[i + 1] (whole number)

  Output:
    1
]]
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
end
return 1
