rule "a" {
  description = [==[ } score = { ]==], -- when = {
  when = function(ev) local t = { stop = 1 } score = t end,
  ["score"] = 1,
  stop = "alow",
}
pipeline "p" { stages = { stage "s" {
  "a",
  on_error = "blok" } },
  log = { sample = 2 },
  fields = { ip = "ipp" } }
