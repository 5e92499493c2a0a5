-- wrk script for the create scenario: POST /messages with a JSON body (201 expected).
wrk.method = "POST"
wrk.body = '{"text":"a message from the benchmark","userId":7}'
wrk.headers["Content-Type"] = "application/json"

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")
