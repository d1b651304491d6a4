local function ev(t) return merge({ ip = "203.0.113.9", email = "a@b.c", ua = "x" }, t) end
test "everything" {
  pipeline = "signup",
  time = "2025-03-01T08:30:00Z",
  event = ev { ua = absent, n = 1.5, tags = { "a", "b" }, headers = { Date = "today" } },
  before = { ev {}, ev { ip = "203.0.113.10" } },
  counters = { ["ip:1"] = 3, ["ip:2"] = { minute = 1, hour = 5, day = 9 } },
  distinct = { names = { "x", 7 }, more = 12 },
  labels = { flag = true, other = 3600 },
  lists = { ["lists/a.txt"] = { add = { "z.test" } }, ["lists/b.txt"] = { replace = {} } },
  expect = {
    action = "block",
    score = { min = 10, max = 20 },
    fired = { "disposable", "burst" },
    not_fired = "trial",
    stopped_by = "gate",
    shadow_action = "block",
    tags = { "email" },
    not_tags = "trial",
    faults = { "flaky" },
    features = { geo = "DE", n = { max = 3 }, gone = absent, ok = true, ["rule.x"] = 2 },
  },
}
test("second", { time = 1735732800, event = {}, expect = {} })
