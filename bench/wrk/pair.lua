-- Request + accept pairs: a student requests the next slot of BENCH_SLOTS (lines
-- "slot_id tutor_id"); every 201 queues the booking, and the next request this thread sends
-- is that slot's tutor accepting it (tokens per tutor in BENCH_TUTOR_TOKENS, lines
-- "tutor_id token"). A pair is done when the accept answers 200.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local student = "Bearer " .. os.getenv("BENCH_TOKEN")
local tutor_tokens = {}
local slots = {}
local next_slot = 0
local queue, head, tail = {}, 1, 0

function init(args)
  for line in io.lines(os.getenv("BENCH_TUTOR_TOKENS")) do
    local tutor, token = line:match("^(%S+)%s+(%S+)")
    tutor_tokens[tutor] = "Bearer " .. token
  end
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
  if head <= tail then
    local item = queue[head]
    queue[head] = nil
    head = head + 1
    local body = '{"booking_id":"' .. item[1] .. '","action":"accept"}'
    local headers = {["Content-Type"] = "application/json", ["Authorization"] = item[2]}
    return wrk.format("POST", "/process-booking-response", headers, body)
  end
  next_slot = next_slot + 1
  if next_slot > #slots then
    next_slot = 1
    count_status("wrapped")
  end
  local body = '{"slot_id":"' .. slots[next_slot] .. '"}'
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = student}
  return wrk.format("POST", "/create-booking-request", headers, body)
end

function response(status, headers, body)
  count_status(status)
  if status == 201 then
    local booking = body:match('"booking_id":"([^"]+)"')
    local tutor = body:match('"tutor_id":"([^"]+)"')
    if booking and tutor and tutor_tokens[tutor] then
      tail = tail + 1
      queue[tail] = {booking, tutor_tokens[tutor]}
    else
      count_status("unmatched")
    end
  end
end
