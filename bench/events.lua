-- Each request reports product_on_sale for one user picked at random among the bench's users.
local thread_seed = 0

function setup(thread)
  thread_seed = thread_seed + 1
  thread:set("seed", thread_seed)
end

function init(args)
  math.randomseed(os.time() * 1000 + seed)
  path = args[1]
  token = args[2]
  users = tonumber(args[3])
end

function request()
  local body = '{"name":"product_on_sale","user_ids":["user-' .. math.random(0, users - 1) ..
    '"],"properties":{"product":"Red shoes","discount":30}}'
  local headers = {["Content-Type"] = "application/json", ["X-API-Token"] = token}
  return wrk.format("POST", path, headers, body)
end
