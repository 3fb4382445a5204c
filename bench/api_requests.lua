-- The API benchmarks' requests. Arguments: the path, the API token, the kind, then its own.
-- register: each request registers a new install (a fresh install id and APNs token).
-- event <users>: each request reports product_on_sale for one of user-0 … user-<users - 1>.
local thread_seed = 0

function setup(thread)
  thread_seed = thread_seed + 1
  thread:set("seed", thread_seed)
end

function init(args)
  math.randomseed(os.time() * 1000 + seed)
  path = args[1]
  token = args[2]
  kind = args[3]
  users = tonumber(args[4])
end

local function hex(n)
  local out = {}
  for i = 1, n do out[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(out)
end

local function headers()
  local found = {["Content-Type"] = "application/json"}
  if token ~= "" then found["X-API-Token"] = token end
  return found
end

local function register()
  local install = hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-8" .. hex(3) .. "-" .. hex(12)
  local body = '{"platform":"ios","push_token":"' .. hex(64) .. '","locale":"en-US",' ..
    '"time_zone":"Europe/Paris","properties":{"appVersion":"2.10.1","carrierCountry":"US"},' ..
    '"custom_properties":{"dog-lover":true},"categories":["offers"]}'
  return wrk.format("PUT", path .. install, headers(), body)
end

local function event()
  local body = '{"name":"product_on_sale","user_ids":["user-' .. math.random(0, users - 1) ..
    '"],"properties":{"product":"Red shoes","discount":30}}'
  return wrk.format("POST", path, headers(), body)
end

function request()
  if kind == "event" then return event() end
  return register()
end
