-- One fixed request, built once (no per-request Lua): BENCH_METHOD, BENCH_BODY (JSON, optional),
-- BENCH_TOKEN (bearer, optional). The path comes with the URL on wrk's command line.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

-- counting statuses needs response(), which makes wrk hand every body to Lua: only on demand
if os.getenv("BENCH_COUNT_STATUS") == "1" then
  function response(status, headers, body)
    count_status(status)
  end
end
