-- Sends each request with an X-Api-Key header. Keys come from the file BENCH_KEYS_FILE (one per line) and paths
-- from BENCH_PATHS (comma-separated). With one key and one path the request is built once (wrk's fast path);
-- otherwise requests rotate over every (key, path) pair: each key calls every path in turn.
local keys, paths = {}, {}
for line in io.lines(os.getenv("BENCH_KEYS_FILE")) do
  if #line > 0 then keys[#keys + 1] = line end
end
for p in string.gmatch(os.getenv("BENCH_PATHS") or "/v1/posts/42", "[^,]+") do
  paths[#paths + 1] = p
end

if #keys == 1 and #paths == 1 then
  wrk.path = paths[1]
  wrk.headers["X-Api-Key"] = keys[1]
else
  local i = 0
  request = function()
    i = i + 1
    local path = paths[(i % #paths) + 1]
    local key = keys[(math.floor(i / #paths) % #keys) + 1]
    return wrk.format("GET", path, { ["X-Api-Key"] = key })
  end
end
