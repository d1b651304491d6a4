local burst = {}
for i = 1, 20 do burst[i] = { ip = "198.51.100." .. i, user = "u" .. i } end
for _, name in ipairs { "a", "b", "c" } do
  test("from " .. name) { event = merge(burst[1], { user = name }), before = burst,
                          expect = { fired = { "burst" } } }
end
