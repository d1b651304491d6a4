-- Shared by the shipped pipelines: lists and helpers.
-- Files run in path order (lib.lua, mail.lua, signup.lua); rules and pipelines may refer to
-- each other across files, but locals stay inside their file, so shared data is a global.

-- List files are loaded once for all workers and reloaded when they change on disk (replace
-- them with a rename); a domain list matches subdomains too.
disposable_domains = verdict.list.domains "lists/disposable_domains.txt"

-- A `when` condition: the event field matches the regular expression; what matched (its first
-- capture, if it has captures) is the reason's detail. A verdict.when condition is decided
-- without running Lua code, so the common shapes of rules cost little (docs/policies.md).
field_matches = verdict.when.matches
