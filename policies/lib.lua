-- Shared by the shipped pipelines: lists and helpers.
-- Files run in path order (lib.lua, mail.lua, signup.lua); rules and pipelines may refer to
-- each other across files, but locals stay inside their file, so shared data is a global.

-- List files are loaded once for all workers and reloaded when they change on disk (replace
-- them with a rename); a domain list matches subdomains too.
disposable_domains = verdict.list.domains "lists/disposable_domains.txt"

-- A `when` function: the event field matches the regular expression; what matched (its first
-- capture, if it has captures) is the reason's detail.
function field_matches(field, re)
  return function(ev)
    local value = ev[field]
    if not re:test(value) then return false end
    return true, re:match(value)
  end
end
