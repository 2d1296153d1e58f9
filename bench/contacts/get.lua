-- GET /api/server/contacts/{id}, cycling through the ids listed one per line
-- in CONTACTS_IDS_FILE (each thread starts at a different place). The
-- requests are formatted once, in init: formatting one per request in Lua
-- costs wrk, which shares the cores with the server, about a microsecond a
-- request that the static nginx baseline does not pay. The result hook is
-- the one bench/lib.sh writes.
dofile(os.getenv("BENCH_RESULT_LUA"))

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local requests = {}
local at = 0

function init(args)
  for line in io.lines(os.getenv("CONTACTS_IDS_FILE")) do
    if line ~= "" then
      requests[#requests + 1] = wrk.format("GET", "/api/server/contacts/" .. line)
    end
  end
  at = (tid or 1) * 37
end

function request()
  at = at + 1
  return requests[(at % #requests) + 1]
end
