rule "x" { scor = 1 }
pipeline "p" { stages = { "x" } }
