-- Successful booking requests per second: POST /create-booking-request, each request on the
-- next slot id of BENCH_SLOTS (one id a line; thread t of n takes every n-th line), as the
-- student of BENCH_TOKEN. Only 201s count as successes (statuses are counted per thread).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
}
local slots = {}
local next_slot = 0

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local n = 0
  for line in io.lines(os.getenv("BENCH_SLOTS")) do
    if n % threads == tid - 1 then
      slots[#slots + 1] = line:match("^(%S+)")
    end
    n = n + 1
  end
end

function request()
  next_slot = next_slot + 1
  if next_slot > #slots then
    next_slot = 1  -- wrapped: these come back 409, which the report flags as exhausted
    count_status("wrapped")
  end
  local body = '{"slot_id":"' .. slots[next_slot] .. '","message":"wrk"}'
  return wrk.format("POST", "/create-booking-request", headers, body)
end

function response(status, headers, body)
  count_status(status)
end
