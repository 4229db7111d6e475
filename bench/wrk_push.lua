-- wrk script for scenario (d): POST /push with one 1-token notification per request, each
-- token different so the stored jobs are distinct.
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{"notifications":[{"platform":"ios","tokens":["ab%062x"],"title":"bench"}]}', counter)
  return wrk.format("POST", "/push", {["Content-Type"] = "application/json"}, body)
end
