-- wrk script of the handshake benchmark: every request is an Engine.IO polling handshake
-- carrying the Cookie header of another session, rotated through all the lines of a file.
--   wrk ... -s cookies.lua URL -- COOKIE_FILE START THREADS
-- Thread k of THREADS (k from 0) sends lines START+k, START+k+THREADS, ... (mod the file's
-- length), so no two requests in a row, on any thread, name the same session. The requests
-- are built once, in init; done() prints one line `WRK_JSON {...}` for the Python driver.

local thread_count = 0

function setup(thread)
   thread:set("id", thread_count)
   thread_count = thread_count + 1
end

local requests = {}
local index, step

function init(args)
   for line in io.lines(args[1]) do
      if #line > 0 then
         requests[#requests + 1] = wrk.format(nil, nil, { Cookie = line })
      end
   end
   step = tonumber(args[3] or "1")
   index = tonumber(args[2] or "0") + id
end

function request()
   local r = requests[index % #requests + 1]
   index = index + step
   return r
end

function done(summary, latency, _)
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
      '"status": %d, "timeout": %d, "latency_mean_us": %.1f, "latency_p50_us": %d, ' ..
      '"latency_p99_us": %d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency:percentile(50), latency:percentile(99)))
end
