-- wrk script: each connection thread sends its own share of pre-generated, distinct requests
-- (one per line: "<path>\t<body>"), so every WeCom callback carries a msgid never seen before.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  reqs = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id then
      local tab = string.find(line, "\t", 1, true)
      reqs[#reqs + 1] = wrk.format("POST", string.sub(line, 1, tab - 1), { ["Content-Type"] = "application/json" }, string.sub(line, tab + 1))
    end
    i = i + 1
  end
  n = 0
end

function request()
  n = n + 1
  -- Past the end the requests repeat; the bench sizes the file so that does not happen.
  return reqs[((n - 1) % #reqs) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"count":%d,"errors":%d,"non2xx":%d,"durationMs":%.1f,"p50Ms":%.3f,"p90Ms":%.3f,"p99Ms":%.3f,"maxMs":%.3f}\n',
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status, summary.duration / 1000,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
