datacenter_asns = verdict.set { "1" }
function helper(x) return datacenter_asn:has(x) end
rule "a" { score = 6, when = function(ev) counter = 1; return helper(ev.asn) or _G.x end }
rule "gate" { stop = "allow", when = function() return true end }
rule "orphan" { score = 1, when = function() return 1 end }
rule "b" { score = 2.5, when = function(ev) return ev.n end }
pipeline "p" {
  stages = { stage "s" { "a", "b" }, stage "g" { "gate", "a" }, stage "t" { "b", shadow = true } },
  actions = { review = 3, challenge = 7, block = 100 },
  fields = { asn = "integer?", n = "any" },
}
