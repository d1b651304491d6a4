test "a" { event = {}, evnt = 1, expect = {} }
test "b" { event = { x = { 1, y = 2 } }, expect = { score = { min = 3, max = 1 } } }
pcall(test "c", { event = print })
test "d" { event = {}, expect = {
