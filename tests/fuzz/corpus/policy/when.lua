local re = verdict.re([[^(x)\w*@]])
local s = verdict.domains {"mailinator.com", ".Example.org"}
local names = verdict.set {"a", "a", "b"}
rule "m" { score = 1, when = verdict.when.matches("email", re) }
rule "d" { score = 2, when = verdict.when.email_domain_in("email", s) }
rule "i" { score = function(ev) return #names end, when = verdict.when.is_in("n", names) }
rule "f" { score = 1, detail = "%d and %s %.2f %%", when = function(ev) return ev.n ~= nil, ev.n, ev.email, 1/3 end }
rule "g" { score = 1, detail = "%q", when = function(ev) return true, tostring(ev.n) end }
pipeline "p" { stages = { stage "s" {"m", "d", "i", "f", "g"} }, actions = { block = 3 } }
