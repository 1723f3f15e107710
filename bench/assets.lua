-- bench/assets.lua - wrk's side of `make bench-assets`: the page and its
-- 20 assets of bench/assets-urls.txt, GET one after the other on every
-- connection, round and round.
local paths = {}
for line in io.lines("bench/assets-urls.txt") do
    paths[#paths + 1] = line
end
local i = 0
request = function()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
