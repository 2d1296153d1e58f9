-- POST /api/server/contacts, every request with a new externalId (so every
-- request creates a contact through the upsert path). The server key comes
-- in with wrk -H; the result hook is the one bench/lib.sh writes.
dofile(os.getenv("BENCH_RESULT_LUA"))

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
local run = os.getenv("CONTACTS_RUN") or "0"

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"externalId":"up-%s-%d-%d","name":"Upsert Person %d","phone":"+62812%07d",' ..
    '"email":"up%d.%d@bench.example","company":"PT Bench","tags":["bench"]}',
    run, tid, counter, counter, counter % 10000000, tid, counter)
  return wrk.format(nil, nil, nil, body)
end
