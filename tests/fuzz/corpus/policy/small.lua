local re = verdict.re("a+b", "i")
local nets = verdict.cidrs {"10.0.0.0/8", "2001:db8::/32"}
rule "r" { score = function(ev, ctx) return #ev.email end, tags = {"t"},
  when = function(ev, ctx) ctx:set("x", 1); ctx:tag("y"); return re:test(ev.email), ev.email end }
rule "s" { stop = "block", when = function(ev) return nets:has(ev.ip) end }
pipeline "p" { stages = { stage "a" {"r"}, stage "b" {"s", shadow = true} }, actions = { block = 3 } }
