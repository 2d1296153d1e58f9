-- GET /api/server/contacts/{id}, cycling through the ids listed one per line
-- in CONTACTS_IDS_FILE (each thread starts at a different place). The result
-- hook is the one bench/lib.sh writes.
dofile(os.getenv("BENCH_RESULT_LUA"))

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local ids = {}
local at = 0

function init(args)
  for line in io.lines(os.getenv("CONTACTS_IDS_FILE")) do
    if line ~= "" then ids[#ids + 1] = line end
  end
  at = (tid or 1) * 37
end

function request()
  at = at + 1
  return wrk.format("GET", "/api/server/contacts/" .. ids[(at % #ids) + 1])
end
