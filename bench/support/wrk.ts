/**
 * wrk's script: the requests are built once per thread (`wrk.format`), taken in turn, and `done`
 * prints the run's totals and latency percentiles (µs) as one JSON line. Arguments after `--`:
 * method, path, a file of bodies (one per line, or "" for none), the Authorization header ("" for none),
 * the bodies' content type ("" for JSON).
 */
export const WRK_SCRIPT = `local requests = {}
function init(args)
  local method, path, bodies, auth, ctype = args[1], args[2], args[3], args[4], args[5]
  local headers = {}
  if auth ~= "" then headers["Authorization"] = auth end
  if bodies ~= "" then
    headers["Content-Type"] = (ctype ~= nil and ctype ~= "") and ctype or "application/json"
    for line in io.lines(bodies) do requests[#requests + 1] = wrk.format(method, path, headers, line) end
  else
    requests[1] = wrk.format(method, path, headers)
  end
end
local i = 0
function request()
  i = i % #requests + 1
  return requests[i]
end
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"durationUs":%d,"errors":%d,"status":%d,"p50":%d,"p99":%d,"mean":%.1f,"max":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
`;
