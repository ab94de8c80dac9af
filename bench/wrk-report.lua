-- wrk script: sets the Host header the tunnel routes on (BENCH_HOST env), and at the end prints
-- one JSON line, prefixed with "BENCHJSON ", that bench/report.py picks up.
-- Latencies from wrk are microseconds; they are reported here in milliseconds.
-- "errors" counts every failed request: socket connect/read/write errors, timeouts, and HTTP
-- statuses >= 400 (wrk's own "status" count). Non-2xx below 400 would be counted too, per thread,
-- but the bench bodies never redirect.

local host = os.getenv("BENCH_HOST")
if host ~= nil and host ~= "" then
  wrk.headers["Host"] = host
end

-- BENCH_STATUS=1: also count responses by status (>= 300) and report them as "statuses".
-- Off by default: a response() hook makes wrk hand every response to Lua, which costs throughput.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

if os.getenv("BENCH_STATUS") == "1" then
  codes = {}
  function response(status, headers, body)
    if status >= 300 then
      codes[status] = (codes[status] or 0) + 1
    end
  end
end

local function statuses()
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("codes")
    if c then
      for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
    end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%d":%d', k, v)) end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local function ms(p) return latency:percentile(p) / 1000.0 end
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"bytes":%d,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
    '"errors":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
    '"statuses":%s}\n',
    summary.requests, secs, summary.requests / secs, summary.bytes,
    ms(50), ms(90), ms(99), ms(99.9), latency.max / 1000.0, latency.mean / 1000.0,
    e.connect + e.read + e.write + e.status + e.timeout,
    e.connect, e.read, e.write, e.status, e.timeout, statuses()))
end
