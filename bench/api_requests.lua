-- Each request registers a new install: a fresh install id and APNs token.
local counter = 0
local thread_seed = 0

function setup(thread)
  thread_seed = thread_seed + 1
  thread:set("seed", thread_seed)
end

function init(args)
  math.randomseed(os.time() * 1000 + seed)
  path_prefix = args[1]
  token = args[2]
end

local function hex(n)
  local out = {}
  for i = 1, n do out[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(out)
end

function request()
  counter = counter + 1
  local install = hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-8" .. hex(3) .. "-" .. hex(12)
  local body = '{"platform":"ios","push_token":"' .. hex(64) .. '","locale":"en-US",' ..
    '"time_zone":"Europe/Paris","properties":{"appVersion":"2.10.1","carrierCountry":"US"},' ..
    '"custom_properties":{"dog-lover":true},"categories":["offers"]}'
  local headers = {["Content-Type"] = "application/json"}
  if token ~= "" then headers["X-API-Token"] = token end
  return wrk.format("PUT", path_prefix .. install, headers, body)
end
