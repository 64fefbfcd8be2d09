-- wrk script: rotate through requests read from a file, one per line.
-- A line is either "GET <path>" or "POST <path> <json body>". Prints a JSON summary at the end.
local requests = {}
local counter = 0

function init(args)
  local file = io.open(args[1], "r")
  for line in file:lines() do
    local method, path, body = line:match("^(%S+) (%S+) ?(.*)$")
    local headers = {}
    if args[2] and args[2] ~= "" then headers["Authorization"] = "Bearer " .. args[2] end
    if method == "POST" then headers["Content-Type"] = "application/json" else body = nil end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  file:close()
  counter = math.random(#requests)
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "errors": %d, "non2xx": %d, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
