-- Shared by the shipped pipelines: list loading helpers.
-- Files run in path order (lib.lua, mail.lua, signup.lua); rules and pipelines may refer to
-- each other across files, but locals stay inside their file, so shared data is a global.

-- Entries of a list file, without the trailing "# comment" of each line.
function list_entries(path)
  local out = {}
  for i, line in ipairs(verdict.lines(path)) do
    local hash = line:find("#", 1, true)
    local entry = verdict.trim(hash and line:sub(1, hash - 1) or line)
    if entry ~= "" then out[#out + 1] = entry end
  end
  return out
end

disposable_domains = verdict.domains(list_entries "lists/disposable_domains.txt")

-- A `when` function: the event field matches the regular expression; what matched (its first
-- capture, if it has captures) is the reason's detail.
function field_matches(field, re)
  return function(ev)
    local value = ev[field]
    if not re:test(value) then return false end
    return true, re:match(value)
  end
end
