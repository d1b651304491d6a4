local words = verdict.set {"admin", "root"}
local doms = verdict.domains {"example.com", ".test"}
local re = verdict.re([[^(\w+)-(\d+)$]], "i")
rule "w" { score = 1, when = function(ev) return words:has(ev.n), verdict.lower(ev.n) end }
rule "d" { score = 2, when = function(ev) return doms:has(verdict.email_domain(ev.email)) end }
rule "r" { score = function(ev) return re:count(ev.email) end, when = function(ev) return re:test(ev.email) end }
rule "x" { stop = "block", when = function(ev, ctx) ctx:stop("block"); return verdict.entropy(ev.email) > 2 end }
pipeline "q" { stages = { stage "s" {"w", "d", "r", on_error = "block"}, stage "t" {"x", shadow = true} },
               actions = { block = 2 }, default = "allow" }
