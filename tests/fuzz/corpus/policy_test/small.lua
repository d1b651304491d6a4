test "plain" { event = { ip = "198.51.100.7" }, expect = { action = "allow", score = 0 } }
