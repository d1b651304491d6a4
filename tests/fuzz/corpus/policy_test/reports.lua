test "reported" {
  pipeline = "mail",
  before = { { body = "one two three four five six seven" } },
  reports = {
    { label = "bad", event = { body = "one two three four five six seven" }, reporter = "ann" },
    { label = "good", event = { body = "x" }, weight = 2.5 },
    { label = "spam", event = {} },
  },
  event = { body = "one two three four five six seven" },
  expect = { fired = "reported_campaign" },
}
test "bad reports" { event = {}, reports = { "x" }, expect = {} }
test "bad weight" { event = {}, reports = { { label = "bad", event = {}, weight = "2" } }, expect = {} }
test "empty reporter" { event = {}, reports = { { label = "bad", event = {}, reporter = "" } }, expect = {} }
